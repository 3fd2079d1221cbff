package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/testenv"
)

// A write with a client hash counts the code against that address in its own transaction: once
// the address is at its limit the write is refused as a whole (member.ErrOTPClientLimit, the
// number's own limit named first), and a write without one — made for no anonymous caller —
// neither counts nor is refused.
func TestOTPSendsCountAgainstTheClient(t *testing.T) {
	env := testenv.New(t)
	s := New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	key := []byte("test-key")
	write := func(id, phoneHash, client string) SignupWrite {
		t.Helper()
		m, consents, err := member.NewSignup(member.SignupDraft{Name: "王秀英", Phone: "13800138000", BirthYear: 1950,
			Consents: map[member.ConsentKind]bool{member.ConsentService: true}, AcceptCovenant: true}, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		m.ID, m.StoreID = id, "s1"
		return SignupWrite{Member: m, NewMember: true, PhoneHash: phoneHash, Consents: consents,
			Membership: member.Membership{StoreID: "s1", GroupID: "G1", MemberID: id, Status: member.StatusPendingVerification,
				Path: member.PathQR, Code: "JWYN2345", JoinedAt: now},
			OTP: member.NewOTPState(member.NewOTP(), id, key, now), Rule: group.RuleOpen, ClientHash: client, Now: now}
	}
	items := func() int {
		t.Helper()
		out, err := env.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(env.TableName())})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Items)
	}

	for i := 0; i < member.OTPMaxPerHourPerClient; i++ {
		id := fmt.Sprintf("M%03d", i)
		if err := s.Signup(ctx, write(id, "phone-"+id, "busy")); err != nil {
			t.Fatalf("signup %d: %v", i, err)
		}
	}
	before := items()
	if err := s.Signup(ctx, write("M999", "phone-M999", "busy")); !errors.Is(err, member.ErrOTPClientLimit) {
		t.Errorf("signup over the client's limit = %v, want ErrOTPClientLimit", err)
	}
	if after := items(); after != before {
		t.Errorf("a refused signup changed the table: items %d → %d", before, after)
	}

	// A sign-in code is counted the same way; when the number is at its limit too, that is
	// what the caller hears (the limit a senior can do something about by waiting).
	ms := member.Membership{StoreID: "s1", GroupID: "G1", MemberID: "M000", Status: member.StatusActive, Path: member.PathQR, JoinedAt: now}
	signIn := SignInWrite{Membership: ms, PhoneHash: "phone-M000", OTP: member.NewOTPState(member.NewOTP(), "M000", key, now),
		ClientHash: "busy", Now: now}
	if err := s.IssueSignIn(ctx, signIn); !errors.Is(err, member.ErrOTPClientLimit) {
		t.Errorf("sign-in over the client's limit = %v, want ErrOTPClientLimit", err)
	}
	for i := 1; i < member.OTPMaxPerHour; i++ {
		again := write("M000", "phone-M000", "")
		again.NewMember = false
		if err := s.Signup(ctx, again); err != nil {
			t.Fatalf("code %d to M000: %v", i+1, err)
		}
	}
	if err := s.IssueSignIn(ctx, signIn); !errors.Is(err, member.ErrOTPSendLimit) {
		t.Errorf("sign-in over both limits = %v, want ErrOTPSendLimit", err)
	}

	// Without a client hash nothing is counted per address, and nothing refused for one.
	if err := s.Signup(ctx, write("M998", "phone-M998", "")); err != nil {
		t.Errorf("signup without a client: %v", err)
	}
	if err := s.Signup(ctx, write("M997", "phone-M997", "quiet")); err != nil {
		t.Errorf("signup from another client: %v", err)
	}
}
