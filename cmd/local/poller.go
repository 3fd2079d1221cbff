package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of *sqs.Client a Poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Limits of an SQS event source mapping and of the SQS API.
const (
	sqsMaxReceive     = 10 // messages one ReceiveMessage returns, and entries one DeleteMessageBatch takes
	sqsMaxWait        = 20 * time.Second
	maxBatchSize      = 10_000
	maxBatchingWindow = 5 * time.Minute
	defaultBatchSize  = 10
	defaultPollWait   = time.Second
	shortPollPause    = 50 * time.Millisecond
	initialErrorDelay = time.Second
	maxErrorDelay     = 30 * time.Second
)

// PollerConfig configures a Poller; the fields mirror an SQS event of template.yaml.
type PollerConfig struct {
	// QueueURL is the queue to poll.
	QueueURL string
	// QueueARN is each record's eventSourceARN; empty means derived from QueueURL, whose path
	// is /<account>/<name> on SQS and on the emulators alike.
	QueueARN string
	// Region fills awsRegion and ARNs; AccountID fills the function's ARN. Empty: local defaults.
	Region    string
	AccountID string
	// BatchSize is the event's BatchSize: 1 to 10000, default 10. Over 10 needs a window.
	BatchSize int
	// MaxBatchingWindow is MaximumBatchingWindowInSeconds: how long to gather records after
	// the first arrives before invoking with fewer than BatchSize. At most five minutes.
	MaxBatchingWindow time.Duration
	// ReportBatchItemFailures is set when FunctionResponseTypes lists it.
	ReportBatchItemFailures bool
	// Concurrency is how many batches may be in flight at once (ScalingConfig's
	// MaximumConcurrency plays that role in AWS); default 1.
	Concurrency int
	// PollWait is each ReceiveMessage's long-poll wait, in whole seconds up to 20; default one
	// second, so that shutdown is quick.
	PollWait time.Duration
	// Function consumes the queue.
	Function LambdaFunction
	// Log receives function and SQS errors; nil means slog.Default().
	Log *slog.Logger
}

// Poller feeds one queue to one function with the semantics of Lambda's SQS event source
// mapping: batches of up to BatchSize gathered within MaxBatchingWindow, an events.SQSEvent
// shaped as Lambda shapes it, and afterwards the deletes Lambda would make. A failed invocation
// deletes nothing, so its messages come back after the visibility timeout and the queue's own
// redrive policy moves them to the DLQ after maxReceiveCount; with ReportBatchItemFailures
// only the messages the function names come back.
type Poller struct {
	client     SQSAPI
	cfg        PollerConfig
	queueARN   string
	region     string
	fnARN      string
	log        *slog.Logger
	errorDelay time.Duration // first back-off after a ReceiveMessage error; tests shorten it
	now        func() time.Time
}

// NewPoller checks cfg as CloudFormation would check the event source mapping and returns a
// Poller that polls with client.
func NewPoller(client SQSAPI, cfg PollerConfig) (*Poller, error) {
	if cfg.QueueURL == "" {
		return nil, errors.New("poller: no queue URL")
	}
	if cfg.Function.Handler == nil {
		return nil, fmt.Errorf("poller %s: function %q has no handler", cfg.QueueURL, cfg.Function.Name)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = defaultBatchSize
	}
	switch {
	case cfg.BatchSize < 1 || cfg.BatchSize > maxBatchSize:
		return nil, fmt.Errorf("poller %s: batch size %d not in 1..%d", cfg.QueueURL, cfg.BatchSize, maxBatchSize)
	case cfg.MaxBatchingWindow < 0 || cfg.MaxBatchingWindow > maxBatchingWindow:
		return nil, fmt.Errorf("poller %s: batching window %s not in 0..%s", cfg.QueueURL, cfg.MaxBatchingWindow, maxBatchingWindow)
	case cfg.BatchSize > sqsMaxReceive && cfg.MaxBatchingWindow < time.Second:
		// Lambda refuses this too: a batch over 10 can only be gathered over several receives.
		return nil, fmt.Errorf("poller %s: batch size %d needs a batching window of at least 1s", cfg.QueueURL, cfg.BatchSize)
	case cfg.PollWait < 0 || cfg.PollWait > sqsMaxWait:
		return nil, fmt.Errorf("poller %s: poll wait %s not in 0..%s", cfg.QueueURL, cfg.PollWait, sqsMaxWait)
	}
	if cfg.PollWait == 0 {
		cfg.PollWait = defaultPollWait
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	p := &Poller{
		client:     client,
		cfg:        cfg,
		queueARN:   cfg.QueueARN,
		region:     orDefault(cfg.Region, defaultRegion),
		log:        cfg.Log,
		errorDelay: initialErrorDelay,
		now:        time.Now,
	}
	p.fnARN = functionARN(p.region, orDefault(cfg.AccountID, defaultAccountID), cfg.Function.Name)
	if p.log == nil {
		p.log = slog.Default()
	}
	p.log = p.log.With("queue", cfg.QueueURL, "function", cfg.Function.Name)
	if p.queueARN == "" {
		arn, err := queueARNFromURL(p.region, cfg.QueueURL)
		if err != nil {
			return nil, err
		}
		p.queueARN = arn
	}
	return p, nil
}

// queueARNFromURL turns https://sqs.<region>.amazonaws.com/<account>/<name> (or an emulator's
// http://host:port/<account>/<name>) into the queue's ARN.
func queueARNFromURL(region, queueURL string) (string, error) {
	u, err := url.Parse(queueURL)
	if err != nil {
		return "", fmt.Errorf("poller: queue URL: %w", err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("poller: queue URL %q: want a path /<account>/<name>", queueURL)
	}
	return "arn:aws:sqs:" + region + ":" + parts[0] + ":" + parts[1], nil
}

// Run polls until ctx is cancelled, then waits for the batches in flight to be invoked and
// settled (their deletes made) and returns nil.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range p.cfg.Concurrency {
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
	return nil
}

func (p *Poller) loop(ctx context.Context) {
	delay := p.errorDelay
	for ctx.Err() == nil {
		_, err := p.pollOnce(ctx)
		if err == nil || ctx.Err() != nil {
			delay = p.errorDelay
			continue
		}
		p.log.Error("receive messages", "err", err, "retry_in", delay)
		sleep(ctx, delay)
		delay = min(2*delay, maxErrorDelay)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// pollOnce gathers one batch and, if it has any records, invokes the function with it and
// settles it. It returns the number of records handled.
func (p *Poller) pollOnce(ctx context.Context) (int, error) {
	msgs, err := p.gather(ctx)
	if len(msgs) > 0 {
		// Messages in hand are handled even when the last receive failed or ctx ended: they
		// are already invisible, and dropping them would delay them by a visibility timeout.
		p.handle(ctx, msgs)
	}
	if ctx.Err() != nil {
		err = nil
	}
	return len(msgs), err
}

// gather receives up to BatchSize messages: it returns after the first receive when there is no
// batching window, and otherwise keeps receiving until the batch is full or the window, opened
// by the first message, has closed.
func (p *Poller) gather(ctx context.Context) ([]types.Message, error) {
	var batch []types.Message
	var windowEnd time.Time
	for len(batch) < p.cfg.BatchSize && ctx.Err() == nil {
		wait, left := p.cfg.PollWait, time.Duration(0)
		if len(batch) > 0 {
			if p.cfg.MaxBatchingWindow == 0 {
				break
			}
			if left = windowEnd.Sub(p.now()); left <= 0 {
				break
			}
			// WaitTimeSeconds counts whole seconds: under a second left, poll short.
			wait = min(wait, left.Truncate(time.Second))
		}
		out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(p.cfg.QueueURL),
			MaxNumberOfMessages:         int32(min(p.cfg.BatchSize-len(batch), sqsMaxReceive)),
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return batch, err
		}
		if len(batch) == 0 && len(out.Messages) > 0 {
			windowEnd = p.now().Add(p.cfg.MaxBatchingWindow)
		}
		switch {
		case len(batch) == 0 && len(out.Messages) == 0:
			return nil, nil
		case len(out.Messages) == 0 && wait == 0:
			// Short polls came back empty: pause so the window's end is not a busy loop.
			sleep(ctx, min(left, shortPollPause))
		}
		batch = append(batch, out.Messages...)
	}
	return batch, nil
}

// handle invokes the function with msgs and deletes what Lambda would delete. It outlives
// ctx: a batch that was received is finished, not abandoned.
func (p *Poller) handle(ctx context.Context, msgs []types.Message) {
	ctx = context.WithoutCancel(ctx)
	payload, err := json.Marshal(p.event(msgs))
	if err != nil {
		p.log.Error("encode SQS event", "err", err)
		return
	}
	out, err := invoke(ctx, p.cfg.Function, p.fnARN, payload)
	if err != nil {
		p.log.Error("function error: batch returns after the visibility timeout", "records", len(msgs), "err", err)
		return
	}
	done := msgs
	if p.cfg.ReportBatchItemFailures {
		if done, err = succeeded(out, msgs); err != nil {
			p.log.Error("bad batch item failures: whole batch returns after the visibility timeout", "records", len(msgs), "err", err)
			return
		}
	}
	p.delete(ctx, done)
}

// succeeded returns the messages a function's SQSEventResponse does not name as failed. As in
// Lambda, a response that is not JSON, or that names an empty or unknown message id, fails the
// whole batch; an empty or null response succeeds it.
func succeeded(out []byte, msgs []types.Message) ([]types.Message, error) {
	var resp *events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if resp == nil {
		return msgs, nil
	}
	known := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		known[aws.ToString(m.MessageId)] = true
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !known[f.ItemIdentifier] {
			return nil, fmt.Errorf("itemIdentifier %q is not a message of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
	}
	var ok []types.Message
	for _, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			ok = append(ok, m)
		}
	}
	return ok, nil
}

// delete removes msgs from the queue, ten at a time. A delete that fails is logged: the message
// comes back and is handled again, which consumers must tolerate anyway.
func (p *Poller) delete(ctx context.Context, msgs []types.Message) {
	for start := 0; start < len(msgs); start += sqsMaxReceive {
		chunk := msgs[start:min(start+sqsMaxReceive, len(msgs))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, m := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		out, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.cfg.QueueURL), Entries: entries})
		if err != nil {
			p.log.Error("delete messages", "count", len(entries), "err", err)
			continue
		}
		for _, f := range out.Failed {
			p.log.Error("delete message", "entry", aws.ToString(f.Id), "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
}

// event shapes msgs as Lambda's SQS event.
func (p *Poller) event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		attrs := m.Attributes
		if attrs == nil {
			attrs = map[string]string{}
		}
		msgAttrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for name, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
				DataType:         aws.ToString(v.DataType),
			}
			// Lambda sends empty lists, not nulls.
			if a.StringListValues == nil {
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			msgAttrs[name] = a
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      msgAttrs,
			EventSourceARN:         p.queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.region,
		}
	}
	return ev
}
