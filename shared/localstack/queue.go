package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"yinling/shared/sam"
)

// queueAttributes are the AWS::SQS::Queue properties that are also queue attributes (same
// name) and mean something locally.
var queueAttributes = []string{
	"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
	"FifoThroughputLimit", "MaximumMessageSize", "MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "VisibilityTimeout",
}

// queueAttrs turns a queue's properties into SQS attributes; RedrivePolicy, an object in
// CloudFormation, becomes the JSON string SQS wants, its deadLetterTargetArn resolved.
func (r *Resources) queueAttrs(res sam.Resource) (map[string]string, error) {
	props, err := r.resolved(res, queueAttributes...)
	if err != nil {
		return nil, err
	}
	attrs := make(map[string]string, len(props))
	for k, v := range props {
		switch v := v.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			attrs[k] = string(b)
		default:
			s, err := sam.Resolve(v, r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			attrs[k] = s
		}
	}
	return attrs, nil
}

func (r *Resources) createQueue(ctx context.Context, res sam.Resource) (Queue, error) {
	attrs, err := r.queueAttrs(res)
	if err != nil {
		return Queue{}, err
	}
	name := sanitize(r.Prefix+res.LogicalID, func(c rune) bool {
		return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	})
	if attrs["FifoQueue"] == "true" {
		name += ".fifo"
	}
	if len(name) > 80 {
		return Queue{}, fmt.Errorf("queue name %q is longer than 80 characters", name)
	}
	sq := r.clients.SQS
	var url string
	out, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	var exists *types.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case errors.As(err, &exists):
		// The queue is there with other attributes (the template changed): bring it in line.
		got, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
		if err != nil {
			return Queue{}, err
		}
		url = aws.ToString(got.QueueUrl)
		settable := maps.Clone(attrs)
		delete(settable, "FifoQueue") // fixed at creation
		if _, err := sq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: settable}); err != nil {
			return Queue{}, fmt.Errorf("update attributes: %w", err)
		}
	default:
		return Queue{}, err
	}
	got, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return Queue{}, fmt.Errorf("get ARN: %w", err)
	}
	return Queue{Name: name, URL: url, Arn: got.Attributes[string(types.QueueAttributeNameQueueArn)]}, nil
}

func (r *Resources) deleteQueue(ctx context.Context, q Queue) error {
	_, err := r.clients.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &q.URL})
	var gone *types.QueueDoesNotExist
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("queue %s: %w", q.Name, err)
	}
	return nil
}
