// Package access finds whom a request speaks for when it is not staff (whose JWT the HTTP API
// verifies, see apigw.Staff): a senior, by the session signup gave them, or a family, by the
// capability link the senior shared. Every function serving seniors and families asks here,
// so the rules — hashed tokens, expiry, revocation, limits on guessing — are written once.
package access

import (
	"context"
	"errors"
	"time"

	"yinling/shared/apigw"
	"yinling/shared/dynamostore"
	"yinling/shared/fail"
	"yinling/shared/member"
)

// Store is the table's lookups of credentials (*dynamostore.Store).
type Store interface {
	GetSession(ctx context.Context, tokenHash string) (dynamostore.Session, error)
	CountFailedGuess(ctx context.Context, scope, client string, now time.Time) error
	FamilyLinkByTokenFrom(ctx context.Context, tokenHash, client string, now time.Time) (member.FamilyLink, error)
}

// SessionCookie is the member session's cookie (httpOnly, Secure, SameSite=Lax; set by signup).
const SessionCookie = "yl_session"

// ErrSessionRequired answers a senior's route without a live session.
var ErrSessionRequired = &fail.Error{Kind: fail.Unauthenticated, Code: "session_required"}

// Member returns the live session a request carries, in the session cookie or as a bearer
// token. A token that cannot be one is refused without a read; an unknown or expired one alike.
func Member(ctx context.Context, st Store, r *apigw.Request, now time.Time) (dynamostore.Session, error) {
	token := apigw.Cookie(r, SessionCookie)
	if token == "" {
		token = apigw.BearerToken(r)
	}
	if !member.ValidTokenShape(token) {
		return dynamostore.Session{}, ErrSessionRequired
	}
	sess, err := st.GetSession(ctx, member.HashToken(token))
	if errors.Is(err, fail.ErrUnauthorized) || err == nil && !now.Before(sess.ValidUntil) {
		return dynamostore.Session{}, ErrSessionRequired
	}
	return sess, err
}

// Family returns the family link in a request's {token} path parameter, if it is usable
// (neither expired nor revoked) and its scope allows need. Unknown, expired and revoked links
// answer alike (member.ErrLinkNotFound), and every miss counts against the caller's address —
// a token that cannot be one too, without a read — so links cannot be guessed.
func Family(ctx context.Context, st Store, r *apigw.Request, need member.Scope, now time.Time) (member.FamilyLink, error) {
	token := r.PathParameters["token"]
	client := r.RequestContext.HTTP.SourceIP
	if !member.ValidTokenShape(token) {
		if err := st.CountFailedGuess(ctx, dynamostore.GuessFamily, client, now); err != nil {
			return member.FamilyLink{}, err
		}
		return member.FamilyLink{}, member.ErrLinkNotFound
	}
	link, err := st.FamilyLinkByTokenFrom(ctx, member.HashToken(token), client, now)
	if err == nil && !link.Usable(now) {
		err = member.ErrLinkNotFound
	}
	if err != nil {
		return member.FamilyLink{}, err
	}
	if !link.Scope.Allows(need) {
		return member.FamilyLink{}, fail.ErrForbidden
	}
	return link, nil
}
