package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/member"
)

// ImportMembers writes members who joined elsewhere — verified in person by staff, with the
// consents they signed on paper — each with one membership, 25 items to a BatchWriteItem. It
// overwrites what is there and keeps no phone lookup or history: it is for loading a store's
// members in bulk into an empty table (the local demo, benchmarks), not for signups.
func (s *Store) ImportMembers(ctx context.Context, ms []member.Member, memberships []member.Membership) error {
	var reqs []types.WriteRequest
	for i, m := range ms {
		mi, err := s.memberItem(ctx, m, "")
		if err != nil {
			return wrap("import members", err)
		}
		for _, it := range []any{mi, toMembershipItem(memberships[i])} {
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return wrap("import members", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
	}
	return wrap("import members", s.batchWrite(ctx, reqs))
}
