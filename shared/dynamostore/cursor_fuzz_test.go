package dynamostore

import (
	"encoding/base64"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"yinling/shared/fail"
)

// FuzzDecodeCursor feeds a listing anything as its cursor: decodeCursor never panics, refuses
// with ErrBadCursor (a 400 naming the cursor), and a key it accepts has exactly the listing's key
// attributes, none empty, in the caller's partition — and encodes back to a cursor that decodes
// to the same key.
func FuzzDecodeCursor(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	f.Add(enc(`{"PK":"STORE#s1","SK":"GROUP#01JDQ7Z6W3V8G0X5Y4K2M9N1PA"}`), false)
	f.Add(enc(`{"GSI1PK":"STORE#s1","GSI1SK":"M#1","PK":"MEMBER#1","SK":"PROFILE"}`), true)
	f.Add(enc(`{"PK":"STORE#s2","SK":"x"}`), false)
	f.Add(enc(`{"PK":"STORE#s1","SK":""}`), false)
	f.Add(enc(`{"PK":"STORE#s1","SK":1}`), false)
	f.Add(enc(`{"PK":"STORE#s1","PK":"STORE#s1"}`), false)
	f.Add(enc(`null`), false)
	f.Add("eyJQSyI6IlNUT1JFI3MxIiwiU0siOiJ4In0=", false) // padded: RawURLEncoding refuses it
	f.Add("%%%", true)
	f.Add("", false)
	f.Fuzz(func(t *testing.T, cursor string, index bool) {
		partAttr, attrs := attrPK, []string{attrPK, attrSK}
		if index {
			partAttr, attrs = attrGSI1PK, []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK}
		}
		const partition = "STORE#s1"
		got, err := decodeCursor(cursor, partAttr, partition, attrs...)
		if err != nil {
			if !errors.Is(err, fail.ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) error = %v, want ErrBadCursor", cursor, err)
			}
			return
		}
		if cursor == "" {
			if got != nil {
				t.Fatalf("no cursor decoded to %v", got)
			}
			return
		}
		if len(got) != len(attrs) {
			t.Fatalf("decodeCursor(%q) = %v: want the attributes %v", cursor, got, attrs)
		}
		for _, a := range attrs {
			v, ok := got[a].(*types.AttributeValueMemberS)
			if !ok || v.Value == "" {
				t.Fatalf("decodeCursor(%q)[%s] = %#v", cursor, a, got[a])
			}
		}
		if p := got[partAttr].(*types.AttributeValueMemberS).Value; p != partition {
			t.Fatalf("decodeCursor(%q) moved the Query to partition %q", cursor, p)
		}
		again, err := decodeCursor(encodeCursor(got), partAttr, partition, attrs...)
		if err != nil {
			t.Fatalf("decodeCursor(%q) = %v, whose cursor is refused: %v", cursor, got, err)
		}
		if diff := cmp.Diff(got, again, cmp.AllowUnexported(types.AttributeValueMemberS{})); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
	})
}

// FuzzCursorRoundTrip encodes any key a Query can return (a LastEvaluatedKey of string
// attributes): its cursor decodes to the same key in its own partition, and is refused in any
// other.
func FuzzCursorRoundTrip(f *testing.F) {
	f.Add("STORE#s1", "GROUP#01JDQ7Z6W3V8G0X5Y4K2M9N1PA", "STORE#s2")
	f.Add("STORE#s1#SESSION#x", "B#\x00\"\\é", "STORE#s1")
	f.Add("M", "\xff", "")
	f.Fuzz(func(t *testing.T, pk, sk, other string) {
		lek := map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk},
			attrSK: &types.AttributeValueMemberS{Value: sk},
		}
		cursor := encodeCursor(lek)
		got, err := decodeCursor(cursor, attrPK, pk, attrPK, attrSK)
		switch {
		case pk == "" || sk == "" || !utf8.ValidString(pk) || !utf8.ValidString(sk) || len(cursor) > 1024:
			// Never returned by DynamoDB (its strings are UTF-8, its key attributes not empty),
			// or past the size a cursor may have: refused, cleanly.
			if err != nil && !errors.Is(err, fail.ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) error = %v", cursor, err)
			}
			return
		case err != nil:
			t.Fatalf("the cursor of %q/%q is refused: %v", pk, sk, err)
		}
		if diff := cmp.Diff(lek, got, cmp.AllowUnexported(types.AttributeValueMemberS{})); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		if other != pk {
			if _, err := decodeCursor(cursor, attrPK, other, attrPK, attrSK); !errors.Is(err, fail.ErrBadCursor) {
				t.Fatalf("the cursor of partition %q is accepted in %q: %v", pk, other, err)
			}
		}
	})
}
