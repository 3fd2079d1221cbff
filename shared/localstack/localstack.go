// Package localstack creates the template's tables, queues and buckets in the local AWS
// emulators (DynamoDB Local for DynamoDB, fauxqs for SQS and S3) and resolves references to
// them the way CloudFormation would. Everything it creates is read from a *sam.Template: no
// name, key, index or queue setting is written down twice.
//
// Physical names are prefix+LogicalID (lowercased and sanitized for buckets), so test packages
// running in parallel against the same emulators never see each other's data, and a dev stack
// with a fixed prefix finds its data again after a restart: Create is idempotent.
//
// A KMS key has no emulator: its Ref is a local key id ("local:PiiKey"), which makes the
// functions seal phones under pii's local master key.
//
// What has no local meaning is skipped: queue encryption (SqsManagedSseEnabled, KMS), table
// point-in-time recovery and encryption, and bucket configuration (CORS, lifecycle,
// encryption, public access block), which fauxqs does not implement.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"yinling/shared/pii"
	"yinling/shared/sam"
)

// Account is the account id both emulators use in ARNs and queue URLs.
const Account = "000000000000"

// Clients are the SDK clients pointed at the emulators.
type Clients struct {
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	S3       *s3.Client
}

// Table is a created AWS::DynamoDB::Table.
type Table struct {
	Name string
	Arn  string
	// StreamArn is set when the table has a StreamSpecification.
	StreamArn string
}

// Queue is a created AWS::SQS::Queue.
type Queue struct {
	Name string
	URL  string
	Arn  string
}

// Bucket is a created AWS::S3::Bucket.
type Bucket struct {
	Name string
	Arn  string
}

// Resources are the physical resources created for one template and prefix. It is a
// sam.Resolver: Ref and GetAtt answer as CloudFormation would.
type Resources struct {
	Prefix string
	// Tables, Queues and Buckets are keyed by logical id.
	Tables  map[string]Table
	Queues  map[string]Queue
	Buckets map[string]Bucket

	template *sam.Template
	clients  Clients
	region   string
}

// Create creates, or finds when they already exist, every table, queue and bucket of t, in
// dependency order (a dead-letter queue before the queue whose RedrivePolicy names it).
func Create(ctx context.Context, t *sam.Template, c Clients, prefix string) (*Resources, error) {
	if c.DynamoDB == nil || c.SQS == nil || c.S3 == nil {
		return nil, errors.New("localstack: Clients needs DynamoDB, SQS and S3")
	}
	r := &Resources{
		Prefix:   prefix,
		Tables:   map[string]Table{},
		Queues:   map[string]Queue{},
		Buckets:  map[string]Bucket{},
		template: t,
		clients:  c,
		region:   c.SQS.Options().Region,
	}
	order, err := creationOrder(t)
	if err != nil {
		return nil, err
	}
	for _, res := range order {
		var err error
		switch res.Type {
		case sam.TypeTable:
			r.Tables[res.LogicalID], err = r.createTable(ctx, res)
		case sam.TypeQueue:
			r.Queues[res.LogicalID], err = r.createQueue(ctx, res)
		case sam.TypeBucket:
			r.Buckets[res.LogicalID], err = r.createBucket(ctx, res)
		}
		if err != nil {
			return nil, fmt.Errorf("localstack: create %s %s: %w", res.Type, res.LogicalID, err)
		}
	}
	return r, nil
}

// creationOrder lists the tables, queues and buckets so that each comes after the others it
// refers to; ties are broken by logical id so runs are repeatable.
func creationOrder(t *sam.Template) ([]sam.Resource, error) {
	managed := map[string]sam.Resource{}
	for _, list := range [][]sam.Resource{t.Tables(), t.Queues(), t.Buckets()} {
		for _, res := range list {
			managed[res.LogicalID] = res
		}
	}
	var (
		order []sam.Resource
		state = map[string]int{} // 1 visiting, 2 done
		visit func(id string) error
	)
	visit = func(id string) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("localstack: %s refers to itself through other resources", id)
		case 2:
			return nil
		}
		state[id] = 1
		deps := sam.Refs(managed[id].Properties)
		slices.Sort(deps)
		for _, d := range slices.Compact(deps) {
			if _, ok := managed[d]; ok && d != id {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[id] = 2
		order = append(order, managed[id])
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(managed)) {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Ref answers a Ref as CloudFormation would: a table's name, a queue's URL, a bucket's name,
// a parameter's Default, or a pseudo parameter's local value.
func (r *Resources) Ref(name string) (string, error) {
	if t, ok := r.Tables[name]; ok {
		return t.Name, nil
	}
	if q, ok := r.Queues[name]; ok {
		return q.URL, nil
	}
	if b, ok := r.Buckets[name]; ok {
		return b.Name, nil
	}
	if p, ok := r.template.Parameters[name]; ok {
		return p.Default, nil
	}
	if res, ok := r.template.Resources[name]; ok && res.Type == typeSecret {
		return r.secretARN(name), nil // a secret's Ref is its ARN
	}
	if res, ok := r.template.Resources[name]; ok && res.Type == typeKMSKey {
		// A key id that selects pii's local wrapper: the emulators have no KMS.
		return pii.LocalKeyPrefix + name, nil
	}
	switch name {
	case "AWS::Region":
		return r.region, nil
	case "AWS::AccountId":
		return Account, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		if s := strings.Trim(r.Prefix, "-_."); s != "" {
			return s, nil
		}
		return "local", nil
	}
	return "", r.unknown(name)
}

// GetAtt answers a GetAtt as CloudFormation would, for the attributes the emulators have:
// Table Arn and StreamArn; Queue Arn, QueueName and QueueUrl; Bucket Arn.
func (r *Resources) GetAtt(id, attr string) (string, error) {
	found := false
	if t, ok := r.Tables[id]; ok {
		found = true
		switch {
		case attr == "Arn":
			return t.Arn, nil
		case attr == "StreamArn" && t.StreamArn != "":
			return t.StreamArn, nil
		}
	}
	if q, ok := r.Queues[id]; ok {
		found = true
		switch attr {
		case "Arn":
			return q.Arn, nil
		case "QueueName":
			return q.Name, nil
		case "QueueUrl":
			return q.URL, nil
		}
	}
	if b, ok := r.Buckets[id]; ok {
		found = true
		if attr == "Arn" {
			return b.Arn, nil
		}
	}
	if found {
		return "", fmt.Errorf("GetAtt %s.%s: attribute not available locally", id, attr)
	}
	return "", r.unknown(id)
}

func (r *Resources) unknown(id string) error {
	if res, ok := r.template.Resources[id]; ok {
		return fmt.Errorf("%s (%s) has no local counterpart", id, res.Type)
	}
	return fmt.Errorf("%s is not a resource or parameter of the template", id)
}

// Env resolves a function's environment variables. overrides, if not nil, is asked first for
// each variable (os.LookupEnv fits), so a developer can replace any value, including one that
// has no local counterpart.
func (r *Resources) Env(f sam.Function, overrides func(name string) (string, bool)) (map[string]string, error) {
	out := make(map[string]string, len(f.Env))
	for _, name := range slices.Sorted(maps.Keys(f.Env)) {
		if overrides != nil {
			if v, ok := overrides(name); ok {
				out[name] = v
				continue
			}
		}
		v, err := f.Env[name].Resolve(r)
		if err == nil {
			v, err = r.resolveDynamicRefs(v)
		}
		if err != nil {
			return nil, fmt.Errorf("environment of %s: %s: %w", f.LogicalID, name, err)
		}
		out[name] = v
	}
	return out, nil
}

// Delete removes every table, queue and bucket (with its objects) that r names, including
// those Create found already there. Missing ones are not an error.
func (r *Resources) Delete(ctx context.Context) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	report := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	for _, t := range r.Tables {
		wg.Go(func() { report(r.deleteTable(ctx, t)) })
	}
	for _, q := range r.Queues {
		wg.Go(func() { report(r.deleteQueue(ctx, q)) })
	}
	for _, b := range r.Buckets {
		wg.Go(func() { report(r.deleteBucket(ctx, b)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("localstack: delete: %w", err)
	}
	return nil
}

// resolved returns the resolved, JSON-ready subset keys of a resource's properties.
func (r *Resources) resolved(res sam.Resource, keys ...string) (map[string]any, error) {
	out := map[string]any{}
	for _, k := range keys {
		x, ok := res.Properties[k]
		if !ok {
			continue
		}
		v, err := sam.ResolveAll(x, r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}
