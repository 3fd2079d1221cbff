package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/sam"
)

// cfnTable is the part of AWS::DynamoDB::Table's Properties that DynamoDB Local implements,
// shaped as CloudFormation writes it.
type cfnTable struct {
	BillingMode             string
	AttributeDefinitions    []struct{ AttributeName, AttributeType string }
	KeySchema               []cfnKey
	GlobalSecondaryIndexes  []cfnIndex
	LocalSecondaryIndexes   []cfnIndex
	ProvisionedThroughput   *cfnThroughput
	StreamSpecification     *struct{ StreamViewType string }
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       flexBool
	}
}

type cfnKey struct{ AttributeName, KeyType string }

type cfnIndex struct {
	IndexName  string
	KeySchema  []cfnKey
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
	ProvisionedThroughput *cfnThroughput
}

type cfnThroughput struct{ ReadCapacityUnits, WriteCapacityUnits flexInt }

// flexInt and flexBool accept CloudFormation's habit of writing numbers and booleans as
// strings ("5", "true"), which is also what a resolved !Ref yields.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(bytes.Trim(b, `"`)), 10, 64)
	*n = flexInt(v)
	return err
}

type flexBool bool

func (x *flexBool) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseBool(string(bytes.Trim(b, `"`)))
	*x = flexBool(v)
	return err
}

var tableProperties = []string{
	"BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
	"LocalSecondaryIndexes", "ProvisionedThroughput", "StreamSpecification", "TimeToLiveSpecification",
}

func (r *Resources) createTable(ctx context.Context, res sam.Resource) (Table, error) {
	props, err := r.resolved(res, tableProperties...)
	if err != nil {
		return Table{}, err
	}
	var spec cfnTable
	b, err := json.Marshal(props)
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	if err != nil {
		return Table{}, fmt.Errorf("read properties: %w", err)
	}
	name := r.Prefix + res.LogicalID
	in := spec.createInput(name)

	db := r.clients.DynamoDB
	var desc *types.TableDescription
	out, err := db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case err == nil:
		desc = out.TableDescription
	case errors.As(err, &inUse):
		// A dev restart with -dbPath: keep the table and its data, add any index the template
		// gained since.
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			return Table{}, err
		}
		if desc, err = r.addMissingIndexes(ctx, d.Table, in); err != nil {
			return Table{}, err
		}
	default:
		return Table{}, err
	}

	if ttl := spec.TimeToLiveSpecification; ttl != nil && bool(ttl.Enabled) {
		if err := r.enableTTL(ctx, name, ttl.AttributeName); err != nil {
			return Table{}, err
		}
	}
	return Table{
		Name:      name,
		Arn:       aws.ToString(desc.TableArn),
		StreamArn: aws.ToString(desc.LatestStreamArn),
	}, nil
}

func (s cfnTable) createInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   &name,
		BillingMode: types.BillingMode(s.BillingMode),
		KeySchema:   keySchema(s.KeySchema),
	}
	if in.BillingMode == "" {
		in.BillingMode = types.BillingModeProvisioned // CloudFormation's default
	}
	for _, a := range s.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	in.ProvisionedThroughput = s.ProvisionedThroughput.sdk()
	for _, ix := range s.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:             aws.String(ix.IndexName),
			KeySchema:             keySchema(ix.KeySchema),
			Projection:            ix.projection(),
			ProvisionedThroughput: ix.ProvisionedThroughput.sdk(),
		})
	}
	for _, ix := range s.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(ix.IndexName),
			KeySchema:  keySchema(ix.KeySchema),
			Projection: ix.projection(),
		})
	}
	if st := s.StreamSpecification; st != nil {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(st.StreamViewType),
		}
	}
	return in
}

func keySchema(ks []cfnKey) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func (ix cfnIndex) projection() *types.Projection {
	return &types.Projection{
		ProjectionType:   types.ProjectionType(ix.Projection.ProjectionType),
		NonKeyAttributes: ix.Projection.NonKeyAttributes,
	}
}

func (t *cfnThroughput) sdk() *types.ProvisionedThroughput {
	if t == nil {
		return nil
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(t.ReadCapacityUnits)),
		WriteCapacityUnits: aws.Int64(int64(t.WriteCapacityUnits)),
	}
}

// addMissingIndexes creates, one UpdateTable each as DynamoDB requires, the global secondary
// indexes of in that the existing table lacks, and returns the table's description.
func (r *Resources) addMissingIndexes(ctx context.Context, have *types.TableDescription, in *dynamodb.CreateTableInput) (*types.TableDescription, error) {
	exists := map[string]bool{}
	for _, ix := range have.GlobalSecondaryIndexes {
		exists[aws.ToString(ix.IndexName)] = true
	}
	desc := have
	for _, ix := range in.GlobalSecondaryIndexes {
		if exists[aws.ToString(ix.IndexName)] {
			continue
		}
		out, err := r.clients.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            in.TableName,
			AttributeDefinitions: in.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:             ix.IndexName,
				KeySchema:             ix.KeySchema,
				Projection:            ix.Projection,
				ProvisionedThroughput: ix.ProvisionedThroughput,
			}}},
		})
		if err != nil {
			return nil, fmt.Errorf("add index %s: %w", aws.ToString(ix.IndexName), err)
		}
		desc = out.TableDescription
	}
	return desc, nil
}

// enableTTL turns TTL on unless it already is: UpdateTimeToLive fails when TTL is enabled.
func (r *Resources) enableTTL(ctx context.Context, table, attr string) error {
	db := r.clients.DynamoDB
	d, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("describe TTL: %w", err)
	}
	if ttl := d.TimeToLiveDescription; ttl != nil {
		switch ttl.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			return nil
		}
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: &attr, Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable TTL: %w", err)
	}
	return nil
}

func (r *Resources) deleteTable(ctx context.Context, t Table) error {
	_, err := r.clients.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &t.Name})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("table %s: %w", t.Name, err)
	}
	return nil
}
