package fuzz

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeAWS answers every call of the JSON-protocol services (DynamoDB, SQS, End User Messaging)
// as an empty table and a working queue would: no item, no page, every write accepted, every
// message of a batch sent. A few reads find something, so that requests get past the
// credentials to the decoders behind them: any session token (SESSION#…) is a live session of
// fakeMember of fakeStore, any family-link token (FAMILY#…) a live helper link to that member,
// and the member's verified profile is found by its key and by the Query of their partition (with
// a plaintext phone, which the store reads as it reads a legacy item). S3 (REST-XML) gets the
// same empty 200.
type fakeAWS struct {
	*httptest.Server
}

// The store, member and family link the fake finds for any session or family token.
const (
	fakeStore  = "s-test"
	fakeMember = "01JDR00000000000000000000A"
	fakeLink   = "01JDQ7Z6W3V8G0X5Y4K2M9N1PL"
	memberPK   = "STORE#" + fakeStore + "#MEMBER#" + fakeMember
)

func newFakeAWS(t testing.TB) *fakeAWS {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(serveFake))
	t.Cleanup(srv.Close)
	return &fakeAWS{Server: srv}
}

// av is a DynamoDB attribute value in the JSON protocol.
type av map[string]any

func s(v string) av { return av{"S": v} }

// liveItem is the item the fake finds under a SESSION# or FAMILY# key, or nil.
func liveItem(key map[string]av) map[string]av {
	pk, _ := key["PK"]["S"].(string)
	sk, _ := key["SK"]["S"].(string)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	valid := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	switch {
	case pk == memberPK && sk == "PROFILE":
		consent := av{"M": map[string]av{"Granted": {"BOOL": true}, "Version": s("v1"), "At": s(created)}}
		return map[string]av{"PK": s(pk), "SK": s(sk), "T": s("member"), "ID": s(fakeMember), "StoreID": s(fakeStore),
			"Name": s("王秀英"), "Phone": s("+8613900139000"), "PhoneHash": s("fuzz"), "VerifiedAt": s(created),
			"VerifiedBy": s("otp"), "BirthYear": {"N": "1950"}, "Gender": s("female"), "Channel": s("sms"),
			"QuietStart": s("22:00"), "QuietEnd": s("07:00"), "TimeZone": s("Asia/Shanghai"), "Tier": s("member"),
			"Consents":  {"M": map[string]av{"service": consent, "health": consent, "marketing": consent}},
			"CreatedAt": s(created), "UpdatedAt": s(created)}
	case strings.HasPrefix(pk, "SESSION#") && sk == "SESSION":
		return map[string]av{"PK": s(pk), "SK": s(sk), "T": s("session"), "StoreID": s(fakeStore),
			"MemberID": s(fakeMember), "CreatedAt": s(created), "ValidUntil": s(valid), "ExpiresAt": {"N": "4070908800"}}
	case strings.HasPrefix(pk, "FAMILY#") && sk == "FAMILY":
		return map[string]av{"PK": s(pk), "SK": s(sk), "T": s("familylink"), "ID": s(fakeLink), "StoreID": s(fakeStore),
			"MemberID": s(fakeMember), "Label": s("女儿"), "Scope": s("helper"), "Alerts": {"BOOL": false},
			"TokenHash": s(strings.TrimPrefix(pk, "FAMILY#")), "CreatedBy": s(fakeMember), "CreatedAt": s(created),
			"ValidUntil": s(valid), "ExpiresAt": {"N": "4070908800"}}
	}
	return nil
}

func serveFake(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	var out any = map[string]any{}
	switch target {
	case "DynamoDB_20120810.GetItem":
		var in struct{ Key map[string]av }
		if json.Unmarshal(body, &in) == nil {
			if it := liveItem(in.Key); it != nil {
				out = map[string]any{"Item": it}
			}
		}
	case "DynamoDB_20120810.BatchGetItem":
		var in struct {
			RequestItems map[string]struct{ Keys []map[string]av }
		}
		if json.Unmarshal(body, &in) == nil {
			found := map[string][]map[string]av{}
			for table, req := range in.RequestItems {
				found[table] = []map[string]av{}
				for _, k := range req.Keys {
					if it := liveItem(k); it != nil {
						found[table] = append(found[table], it)
					}
				}
			}
			out = map[string]any{"Responses": found}
		}
	case "DynamoDB_20120810.Query":
		var in struct{ ExpressionAttributeValues map[string]av }
		if json.Unmarshal(body, &in) == nil {
			if pk, _ := in.ExpressionAttributeValues[":pk"]["S"].(string); pk == memberPK {
				it := liveItem(map[string]av{"PK": s(pk), "SK": s("PROFILE")})
				out = map[string]any{"Items": []map[string]av{it}, "Count": 1, "ScannedCount": 1}
			}
		}
	case "AmazonSQS.SendMessageBatch":
		var in struct{ Entries []struct{ Id string } }
		_ = json.Unmarshal(body, &in)
		ok := []map[string]string{}
		for _, e := range in.Entries {
			ok = append(ok, map[string]string{"Id": e.Id, "MessageId": "fake-" + e.Id})
		}
		out = map[string]any{"Successful": ok, "Failed": []any{}}
	case "AmazonSQS.SendMessage":
		out = map[string]string{"MessageId": "fake"}
	case "AmazonSQS.GetQueueAttributes":
		out = map[string]any{"Attributes": map[string]string{}}
	}
	b, _ := json.Marshal(out)
	if strings.HasPrefix(target, "DynamoDB_") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	}
	_, _ = w.Write(b)
}
