package dynamostore

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
)

func TestCursorRoundTrip(t *testing.T) {
	lek := map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "STORE#s1"},
		attrSK: &types.AttributeValueMemberS{Value: "GROUP#01JDQ7Z6W3V8G0X5Y4K2M9N1PA"},
	}
	got, err := decodeCursor(encodeCursor(lek), attrPK, "STORE#s1", attrPK, attrSK)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lek, got, cmp.AllowUnexported(types.AttributeValueMemberS{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if encodeCursor(nil) != "" {
		t.Errorf("an exhausted listing must have no cursor")
	}
}

// A cursor is only good for the partition it came from: this is what keeps a cursor copied from
// another store's listing from reading that store's items.
func TestDecodeCursorRefuses(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := map[string]string{
		"other store":      enc(`{"PK":"STORE#s2","SK":"GROUP#x"}`),
		"missing sort key": enc(`{"PK":"STORE#s1"}`),
		"extra attribute":  enc(`{"PK":"STORE#s1","SK":"GROUP#x","GSI1PK":"y"}`),
		"empty sort key":   enc(`{"PK":"STORE#s1","SK":""}`),
		"not json":         enc(`PK=STORE#s1`),
		"not base64":       "%%%",
		"too long":         enc(`{"PK":"STORE#s1","SK":"` + string(make([]byte, 2000)) + `"}`),
	}
	for name, cursor := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeCursor(cursor, attrPK, "STORE#s1", attrPK, attrSK)
			if !errors.Is(err, fail.ErrBadCursor) {
				t.Errorf("decodeCursor = %v, want ErrBadCursor", err)
			}
		})
	}
}
