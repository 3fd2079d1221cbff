package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/member"
)

// fakeStore answers one session and one link, and counts what it was asked.
type fakeStore struct {
	session       dynamostore.Session
	link          member.FamilyLink
	reads, misses int
}

func (f *fakeStore) GetSession(_ context.Context, hash string) (dynamostore.Session, error) {
	f.reads++
	if hash != f.session.TokenHash {
		return dynamostore.Session{}, fail.ErrUnauthorized
	}
	return f.session, nil
}

func (f *fakeStore) CountFailedGuess(context.Context, string, string, time.Time) error {
	f.misses++
	return nil
}

func (f *fakeStore) FamilyLinkByTokenFrom(_ context.Context, hash, _ string, _ time.Time) (member.FamilyLink, error) {
	f.reads++
	if hash != f.link.TokenHash {
		return member.FamilyLink{}, member.ErrLinkNotFound
	}
	return f.link, nil
}

func TestMember(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	token := member.NewToken()
	st := &fakeStore{session: dynamostore.Session{TokenHash: member.HashToken(token), StoreID: "s1", MemberID: "m1",
		ValidUntil: now.Add(time.Hour)}}
	cookie := func(v string) *apigw.Request { return &apigw.Request{Cookies: []string{SessionCookie + "=" + v}} }
	bearer := &apigw.Request{Headers: map[string]string{"authorization": "Bearer " + token}}
	for _, tt := range []struct {
		name      string
		r         *apigw.Request
		at        time.Time
		ok        bool
		wantReads int
	}{
		{"cookie", cookie(token), now, true, 1},
		{"bearer", bearer, now, true, 1},
		{"expired", cookie(token), now.Add(time.Hour), false, 1},
		{"unknown", cookie(member.NewToken()), now, false, 1},
		{"malformed: no read", cookie("abc"), now, false, 0},
		{"none: no read", &apigw.Request{}, now, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st.reads = 0
			sess, err := Member(context.Background(), st, tt.r, tt.at)
			if tt.ok && (err != nil || sess.MemberID != "m1") {
				t.Errorf("Member = %+v, %v", sess, err)
			}
			if !tt.ok && !errors.Is(err, ErrSessionRequired) {
				t.Errorf("err = %v, want session_required", err)
			}
			if st.reads != tt.wantReads {
				t.Errorf("%d reads, want %d", st.reads, tt.wantReads)
			}
		})
	}
}

func TestFamily(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	token := member.NewToken()
	link := member.FamilyLink{ID: "L1", StoreID: "s1", MemberID: "m1", Scope: member.ScopeView,
		TokenHash: member.HashToken(token), ExpiresAt: now.Add(time.Hour)}
	req := func(tok string) *apigw.Request {
		return &apigw.Request{PathParameters: map[string]string{"token": tok}}
	}
	for _, tt := range []struct {
		name       string
		link       func(member.FamilyLink) member.FamilyLink
		token      string
		need       member.Scope
		want       error
		wantMisses int
	}{
		{"view link, view", nil, token, member.ScopeView, nil, 0},
		{"view link, helper", nil, token, member.ScopeHelper, fail.ErrForbidden, 0},
		{"expired", func(l member.FamilyLink) member.FamilyLink { l.ExpiresAt = now; return l }, token, member.ScopeView, member.ErrLinkNotFound, 0},
		{"revoked", func(l member.FamilyLink) member.FamilyLink { l.RevokedAt = now.Add(-time.Minute); return l }, token, member.ScopeView, member.ErrLinkNotFound, 0},
		{"malformed counts a miss", nil, "x", member.ScopeView, member.ErrLinkNotFound, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{link: link}
			if tt.link != nil {
				st.link = tt.link(link)
			}
			got, err := Family(context.Background(), st, req(tt.token), tt.need, now)
			if tt.want == nil && (err != nil || got.ID != "L1") {
				t.Errorf("Family = %+v, %v", got, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if st.misses != tt.wantMisses {
				t.Errorf("%d misses counted, want %d", st.misses, tt.wantMisses)
			}
		})
	}
}
