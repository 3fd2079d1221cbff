package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/member"
	"yinling/shared/tenant"
)

// Item types of members.
const (
	typeMember     = "member"
	typeMembership = "membership"
	typeConsent    = "consent"
	typePhone      = "phone"
	typeOTP        = "otp"
	typeOTPRate    = "otprate"
	typeSession    = "session"
)

type consentAV struct {
	Granted bool      `dynamodbav:"Granted"`
	Version string    `dynamodbav:"Version"`
	At      time.Time `dynamodbav:"At"`
}

// memberItem is a member's profile as stored. Phone is sealed (phones.go; plain E.164 in items
// written before sealing); PhoneHash is the keyed hash the phone lookup item is keyed by.
type memberItem struct {
	PK           string               `dynamodbav:"PK"`
	SK           string               `dynamodbav:"SK"`
	T            string               `dynamodbav:"T"`
	ID           string               `dynamodbav:"ID"`
	StoreID      string               `dynamodbav:"StoreID"`
	Name         string               `dynamodbav:"Name"`
	Phone        string               `dynamodbav:"Phone"`
	PhoneHash    string               `dynamodbav:"PhoneHash"`
	VerifiedAt   *time.Time           `dynamodbav:"VerifiedAt,omitempty"` // absent until verified: if_not_exists relies on it
	VerifiedBy   string               `dynamodbav:"VerifiedBy,omitempty"`
	BirthYear    int                  `dynamodbav:"BirthYear"`
	Gender       string               `dynamodbav:"Gender"`
	Neighborhood string               `dynamodbav:"Neighborhood,omitempty"`
	Interests    []string             `dynamodbav:"Interests,omitempty"`
	Channel      string               `dynamodbav:"Channel"`
	QuietStart   string               `dynamodbav:"QuietStart"`
	QuietEnd     string               `dynamodbav:"QuietEnd"`
	TimeZone     string               `dynamodbav:"TimeZone"`
	Tier         string               `dynamodbav:"Tier"`
	Tags         []string             `dynamodbav:"Tags,omitempty"`
	Consents     map[string]consentAV `dynamodbav:"Consents"`
	CreatedAt    time.Time            `dynamodbav:"CreatedAt"`
	UpdatedAt    time.Time            `dynamodbav:"UpdatedAt"`
}

// toMemberItem is m as stored, without its phone: memberItem adds it sealed. (Profile updates
// use it alone; they never write the phone.)
func toMemberItem(m member.Member, phoneHash string) memberItem {
	pk, sk := memberKey(m.StoreID, m.ID)
	consents := make(map[string]consentAV, len(m.Consents))
	for k, c := range m.Consents {
		consents[string(k)] = consentAV{Granted: c.Granted, Version: c.Version, At: c.At}
	}
	return memberItem{
		PK: pk, SK: sk, T: typeMember, ID: m.ID, StoreID: m.StoreID, Name: m.Name,
		PhoneHash: phoneHash, VerifiedAt: timePtr(m.VerifiedAt), VerifiedBy: m.VerifiedBy,
		BirthYear: m.BirthYear, Gender: string(m.Gender), Neighborhood: m.Neighborhood, Interests: m.Interests,
		Channel: string(m.Channel), QuietStart: m.QuietHours.Start, QuietEnd: m.QuietHours.End,
		TimeZone: m.TimeZone, Tier: string(m.Tier), Tags: m.Tags, Consents: consents,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

// memberItem is m as stored, its phone sealed for the member.
func (s *Store) memberItem(ctx context.Context, m member.Member, phoneHash string) (memberItem, error) {
	it := toMemberItem(m, phoneHash)
	var err error
	if it.Phone, err = s.sealPhone(ctx, m.Phone, memberPhoneOwner(m.StoreID, m.ID)); err != nil {
		return memberItem{}, fmt.Errorf("seal phone of member %s: %w", m.ID, err)
	}
	return it, nil
}

// memberFrom converts a stored profile, opening its phone.
func (s *Store) memberFrom(ctx context.Context, it memberItem) (member.Member, error) {
	phone, err := s.openText(ctx, it.Phone, memberPhoneOwner(it.StoreID, it.ID))
	if err != nil {
		return member.Member{}, fmt.Errorf("open phone of member %s: %w", it.ID, err)
	}
	return it.member(phone)
}

// member converts a stored profile whose phone is opened (E.164).
func (it memberItem) member(e164 string) (member.Member, error) {
	phone, err := member.ParsePhone(e164)
	if err != nil {
		return member.Member{}, fmt.Errorf("stored phone of member %s: %w", it.ID, err)
	}
	consents := make(member.Consents, len(it.Consents))
	for k, c := range it.Consents {
		consents[member.ConsentKind(k)] = member.Consent{Kind: member.ConsentKind(k), Granted: c.Granted, Version: c.Version, At: c.At}
	}
	var verifiedAt time.Time
	if it.VerifiedAt != nil {
		verifiedAt = *it.VerifiedAt
	}
	return member.Member{
		ID: it.ID, StoreID: it.StoreID, Name: it.Name, Phone: phone, VerifiedAt: verifiedAt, VerifiedBy: it.VerifiedBy,
		BirthYear: it.BirthYear, Gender: member.Gender(it.Gender), Neighborhood: it.Neighborhood, Interests: it.Interests,
		Channel: member.Channel(it.Channel), QuietHours: member.QuietHours{Start: it.QuietStart, End: it.QuietEnd},
		TimeZone: it.TimeZone, Tier: member.Tier(it.Tier), Tags: it.Tags, Consents: consents,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}, nil
}

type membershipItem struct {
	PK         string     `dynamodbav:"PK"`
	SK         string     `dynamodbav:"SK"`
	T          string     `dynamodbav:"T"`
	StoreID    string     `dynamodbav:"StoreID"`
	GroupID    string     `dynamodbav:"GroupID"`
	MemberID   string     `dynamodbav:"MemberID"`
	Status     string     `dynamodbav:"Status"`
	Path       string     `dynamodbav:"Path"`
	Code       string     `dynamodbav:"Code"`
	ReferrerID string     `dynamodbav:"ReferrerID,omitempty"`
	InvitedBy  string     `dynamodbav:"InvitedBy,omitempty"`
	JoinedAt   time.Time  `dynamodbav:"JoinedAt"`
	ApprovedBy string     `dynamodbav:"ApprovedBy,omitempty"`
	ApprovedAt *time.Time `dynamodbav:"ApprovedAt,omitempty"`
	Referral   string     `dynamodbav:"ReferralCode,omitempty"`
	GSI1PK     string     `dynamodbav:"GSI1PK"`
	GSI1SK     string     `dynamodbav:"GSI1SK"`
}

func toMembershipItem(ms member.Membership) membershipItem {
	pk, sk := membershipKey(ms.StoreID, ms.MemberID, ms.GroupID)
	gpk, gsk := groupMembersKey(ms.StoreID, ms.GroupID, string(ms.Status), ms.JoinedAt.UTC().Format(time.RFC3339), ms.MemberID)
	return membershipItem{
		PK: pk, SK: sk, T: typeMembership, StoreID: ms.StoreID, GroupID: ms.GroupID, MemberID: ms.MemberID,
		Status: string(ms.Status), Path: string(ms.Path), Code: ms.Code, ReferrerID: ms.ReferrerID,
		InvitedBy: ms.InvitedBy, JoinedAt: ms.JoinedAt, ApprovedBy: ms.ApprovedBy, ApprovedAt: timePtr(ms.ApprovedAt),
		Referral: ms.ReferralCode,
		GSI1PK:   gpk, GSI1SK: gsk,
	}
}

func (it membershipItem) membership() member.Membership {
	var approvedAt time.Time
	if it.ApprovedAt != nil {
		approvedAt = *it.ApprovedAt
	}
	return member.Membership{
		StoreID: it.StoreID, GroupID: it.GroupID, MemberID: it.MemberID, Status: member.Status(it.Status),
		Path: member.JoinPath(it.Path), Code: it.Code, ReferrerID: it.ReferrerID, InvitedBy: it.InvitedBy,
		JoinedAt: it.JoinedAt, ApprovedBy: it.ApprovedBy, ApprovedAt: approvedAt, ReferralCode: it.Referral,
	}
}

// timePtr stores a zero time as an absent attribute: the SDK's omitempty does not treat a zero
// time.Time as empty, and conditions such as if_not_exists need the attribute truly absent.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// otpItem is a member's current one-time code, with what verifying it completes: the
// membership of GroupID, whose status then follows Rule and Path.
type otpItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	MemberID   string    `dynamodbav:"MemberID"`
	StoreID    string    `dynamodbav:"StoreID"`
	GroupID    string    `dynamodbav:"GroupID"`
	Rule       string    `dynamodbav:"Rule"`
	Path       string    `dynamodbav:"Path"`
	Code       string    `dynamodbav:"Code"`
	JoinedAt   time.Time `dynamodbav:"JoinedAt"`
	Referrer   string    `dynamodbav:"Referrer,omitempty"`
	SignIn     bool      `dynamodbav:"SignIn,omitempty"`
	Status     string    `dynamodbav:"Status,omitempty"`
	Hash       string    `dynamodbav:"Hash"`
	ValidUntil time.Time `dynamodbav:"ValidUntil"`
	Attempts   int       `dynamodbav:"Attempts"`
	Used       bool      `dynamodbav:"Used"`
	ExpiresAt  int64     `dynamodbav:"ExpiresAt"`
}

type sessionItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	StoreID    string    `dynamodbav:"StoreID"`
	MemberID   string    `dynamodbav:"MemberID"`
	CreatedAt  time.Time `dynamodbav:"CreatedAt"`
	ValidUntil time.Time `dynamodbav:"ValidUntil"`
	ExpiresAt  int64     `dynamodbav:"ExpiresAt"`
}

func toCode(it codeItem) group.Code {
	return group.Code{
		Code: it.Code, Kind: group.CodeKind(it.Kind), StoreID: it.StoreID, GroupID: it.GroupID,
		CreatedBy: it.CreatedBy, MaxUses: it.MaxUses, Uses: it.Uses, ValidUntil: it.ValidUntil,
	}
}

// JoinContext is what a signup needs to know besides the code: the store (its interests), the
// group (its rule and covenant) and whether the phone already belongs to a member of the store.
type JoinContext struct {
	Store    tenant.Store
	Group    group.Group
	MemberID string // "" when the phone is new to the store
}

// JoinContext reads the store, the group and (unless phoneHash is "", as for the join page
// before anyone typed a number) the phone lookup in one BatchGetItem.
func (s *Store) JoinContext(ctx context.Context, storeID, groupID, phoneHash string) (JoinContext, error) {
	spk, ssk := storeKey(storeID)
	gpk, gsk := groupKey(storeID, groupID)
	ppk, psk := phoneKey(storeID, phoneHash)
	keys := [][2]string{{spk, ssk}, {gpk, gsk}}
	if phoneHash != "" {
		keys = append(keys, [2]string{ppk, psk})
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return JoinContext{}, wrap("join context", err)
	}
	var jc JoinContext
	var st storeItem
	var g groupItem
	var ph struct {
		MemberID string `dynamodbav:"MemberID"`
	}
	for _, it := range items {
		var k struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(it, &k); err != nil {
			return JoinContext{}, wrap("join context", err)
		}
		switch {
		case k.PK == spk && k.SK == ssk:
			err = attributevalue.UnmarshalMap(it, &st)
		case k.PK == gpk && k.SK == gsk:
			err = attributevalue.UnmarshalMap(it, &g)
		case k.PK == ppk:
			err = attributevalue.UnmarshalMap(it, &ph)
		}
		if err != nil {
			return JoinContext{}, wrap("join context", err)
		}
	}
	if st.ID == "" || g.ID == "" {
		return JoinContext{}, group.ErrCodeNotFound // the code outlived its group or store
	}
	jc.Store = st.store()
	jc.Group = g.group()
	jc.MemberID = ph.MemberID
	return jc, nil
}

// batchGet reads up to 100 keys with strong consistency, retrying unprocessed keys.
func (s *Store) batchGet(ctx context.Context, keys [][2]string) ([]map[string]types.AttributeValue, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = key(k[0], k[1])
	}
	var out []map[string]types.AttributeValue
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt*attempt)*20*time.Millisecond); err != nil {
				return nil, err
			}
		}
		if attempt > 5 {
			return nil, errors.New("batch get: unprocessed keys after retries")
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{
				s.table: {Keys: req, ConsistentRead: aws.Bool(true)},
			},
			ReturnConsumedCapacity: capacity,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Responses[s.table]...)
		req = res.UnprocessedKeys[s.table].Keys
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SignupWrite is everything one signup writes, in one transaction.
type SignupWrite struct {
	// Member is written, with its phone lookup and consent records, when NewMember is set; an
	// existing member's profile is not touched by a signup (only a verified session may change
	// it).
	Member    member.Member
	NewMember bool
	PhoneHash string
	Consents  []member.Consent
	// Membership is written if the member has none in its group, or replaces one still waiting
	// for verification (a repeated signup sends a fresh code).
	Membership member.Membership
	// OTP replaces the member's current code; Rule is the group's entry rule it completes.
	OTP  member.OTPState
	Rule group.EntryRule
	// ClientHash is the keyed hash of the caller's address, whose hourly count of codes is
	// limited too (member.OTPMaxPerHourPerClient); "" counts none, for writes not made on behalf
	// of an anonymous caller.
	ClientHash string
	// Now dates the rate counters' hour.
	Now time.Time
}

// Errors of Signup the caller acts on.
var (
	// ErrPhoneTaken: another signup created a member with this phone a moment ago; read the
	// join context again and sign up as that member.
	ErrPhoneTaken = errors.New("dynamostore: phone already belongs to a member")
	// ErrMembershipSettled: the member already belongs to the group (verified, maybe waiting
	// for approval); read the membership and answer with it.
	ErrMembershipSettled = errors.New("dynamostore: membership is past verification")
)

// otpRetention keeps a used or expired code's item a day for support questions; TTL removes it.
const otpRetention = 24 * time.Hour

// Signup writes a signup in one transaction and counts the code sent against the phone's
// hourly limit (member.ErrOTPSendLimit when it is reached) and the caller's address's
// (member.ErrOTPClientLimit); a refused signup writes nothing.
func (s *Store) Signup(ctx context.Context, w SignupWrite) error {
	var items []types.TransactWriteItem
	var roles []string // what each item is, to read cancellation reasons
	add := func(role string, it types.TransactWriteItem) {
		items = append(items, it)
		roles = append(roles, role)
	}
	put := func(role string, v any, cond string, names map[string]string, vals map[string]types.AttributeValue) error {
		av, err := attributevalue.MarshalMap(v)
		if err != nil {
			return err
		}
		p := &types.Put{TableName: &s.table, Item: av}
		if cond != "" {
			p.ConditionExpression = &cond
			p.ExpressionAttributeNames = names
			p.ExpressionAttributeValues = vals
		}
		add(role, types.TransactWriteItem{Put: p})
		return nil
	}
	ms := w.Membership
	if w.NewMember {
		mi, err := s.memberItem(ctx, w.Member, w.PhoneHash)
		if err != nil {
			return wrap("signup", err)
		}
		if err := put("member", mi, "attribute_not_exists(PK)", nil, nil); err != nil {
			return wrap("signup", err)
		}
		ppk, psk := phoneKey(ms.StoreID, w.PhoneHash)
		if err := put("phone", map[string]any{"PK": ppk, "SK": psk, "T": typePhone, "MemberID": ms.MemberID},
			"attribute_not_exists(PK)", nil, nil); err != nil {
			return wrap("signup", err)
		}
		for _, c := range w.Consents {
			cpk, csk := consentKey(ms.StoreID, ms.MemberID, c.At.UTC().Format(time.RFC3339), string(c.Kind))
			if err := put("consent", map[string]any{"PK": cpk, "SK": csk, "T": typeConsent, "Kind": string(c.Kind),
				"Granted": c.Granted, "Version": c.Version, "At": c.At.UTC().Format(time.RFC3339)}, "", nil, nil); err != nil {
				return wrap("signup", err)
			}
		}
	}
	if err := put("membership", toMembershipItem(ms), "attribute_not_exists(PK) OR #S = :pending",
		map[string]string{"#S": "Status"},
		map[string]types.AttributeValue{":pending": &types.AttributeValueMemberS{Value: string(member.StatusPendingVerification)}},
	); err != nil {
		return wrap("signup", err)
	}
	opk, osk := otpKey(ms.MemberID)
	if err := put("otp", otpItem{
		PK: opk, SK: osk, T: typeOTP, MemberID: ms.MemberID, StoreID: ms.StoreID, GroupID: ms.GroupID,
		Rule: string(w.Rule), Path: string(ms.Path), Code: ms.Code, JoinedAt: ms.JoinedAt, Referrer: ms.ReferrerID, Hash: w.OTP.Hash, ValidUntil: w.OTP.ExpiresAt,
		ExpiresAt: ttl(w.OTP.ExpiresAt.Add(otpRetention)),
	}, "", nil, nil); err != nil {
		return wrap("signup", err)
	}
	add("rate", s.countOTPSend(ms.StoreID, w.PhoneHash, w.Now))
	if w.ClientHash != "" {
		add("client rate", s.countClientOTPSend(w.ClientHash, w.Now))
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          items,
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil {
		for i, r := range reasons {
			if r != "ConditionalCheckFailed" {
				continue
			}
			switch roles[i] {
			case "member", "phone":
				return ErrPhoneTaken
			case "membership":
				return ErrMembershipSettled
			case "rate":
				return member.ErrOTPSendLimit
			case "client rate":
				return member.ErrOTPClientLimit
			}
		}
	}
	return wrap("signup", err)
}

// GetMembership returns a member's membership of a group, or member.ErrNotFound.
func (s *Store) GetMembership(ctx context.Context, store, memberID, groupID string) (member.Membership, error) {
	pk, sk := membershipKey(store, memberID, groupID)
	var it membershipItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return member.Membership{}, member.ErrNotFound
		}
		return member.Membership{}, wrap("get membership", err)
	}
	return it.membership(), nil
}

// OTPRecord is a stored one-time code and the join it completes.
type OTPRecord struct {
	State    member.OTPState
	StoreID  string
	GroupID  string
	Rule     group.EntryRule
	Path     member.JoinPath
	Code     string
	JoinedAt time.Time // the membership's, which its GSI1 sort key includes
	Referrer string    // the referring member, for PathReferral
	// SignIn marks a code sent to a member whose join is already complete (a new phone, a
	// cleared browser): verifying it only opens a session. Status is their membership's then.
	SignIn bool
	Status member.Status
}

// GetOTP returns a member's current code, or member.ErrNotFound.
func (s *Store) GetOTP(ctx context.Context, memberID string) (OTPRecord, error) {
	pk, sk := otpKey(memberID)
	var it otpItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return OTPRecord{}, member.ErrNotFound
		}
		return OTPRecord{}, wrap("get otp", err)
	}
	return OTPRecord{
		State:   member.OTPState{MemberID: it.MemberID, Hash: it.Hash, ExpiresAt: it.ValidUntil, Attempts: it.Attempts, Used: it.Used},
		StoreID: it.StoreID, GroupID: it.GroupID, Rule: group.EntryRule(it.Rule), Path: member.JoinPath(it.Path), Code: it.Code,
		JoinedAt: it.JoinedAt, Referrer: it.Referrer, SignIn: it.SignIn, Status: member.Status(it.Status),
	}, nil
}

// CountOTPFailure records one wrong guess, on condition that nobody else counted one since the
// code was read (seen attempts): two guesses in a race cannot share one attempt.
func (s *Store) CountOTPFailure(ctx context.Context, memberID string, seen int) error {
	pk, sk := otpKey(memberID)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET Attempts = Attempts + :one"),
		ConditionExpression: aws.String("Attempts = :seen"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":  &types.AttributeValueMemberN{Value: "1"},
			":seen": &types.AttributeValueMemberN{Value: itoa(seen)},
		},
		ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return member.ErrOTPTooManyAttempts // a racing guess got there first: make the caller slow down
	}
	return wrap("count otp failure", err)
}

// Verification is what a correct code completes, in one transaction.
type Verification struct {
	Record         OTPRecord
	Status         member.Status // the membership's status now
	SessionHash    string
	SessionExpires time.Time
	Now            time.Time
}

// CompleteVerification marks the code used (once: member.ErrOTPUsed if another request did),
// the member verified, the membership's new status, the invite's use, and opens a session.
func (s *Store) CompleteVerification(ctx context.Context, v Verification) error {
	r := v.Record
	now := v.Now.UTC().Truncate(time.Second)
	nowS := &types.AttributeValueMemberS{Value: now.Format(time.RFC3339)}
	opk, osk := otpKey(r.State.MemberID)
	mpk, msk := memberKey(r.StoreID, r.State.MemberID)
	spk, ssk := membershipKey(r.StoreID, r.State.MemberID, r.GroupID)
	sess, err := attributevalue.MarshalMap(func() sessionItem {
		pk, sk := sessionKey(v.SessionHash)
		return sessionItem{PK: pk, SK: sk, T: typeSession, StoreID: r.StoreID, MemberID: r.State.MemberID,
			CreatedAt: now, ValidUntil: v.SessionExpires, ExpiresAt: ttl(v.SessionExpires)}
	}())
	if err != nil {
		return wrap("complete verification", err)
	}
	// The membership's GSI1 sort key starts with its status, so the listing moves with it.
	_, gsk := groupMembersKey(r.StoreID, r.GroupID, string(v.Status), r.JoinedAt.UTC().Format(time.RFC3339), r.State.MemberID)
	useCode := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: key(opk, osk),
		UpdateExpression:    aws.String("SET Used = :true"),
		ConditionExpression: aws.String("Used = :false AND Attempts < :max"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":false": &types.AttributeValueMemberBOOL{Value: false},
			":max": &types.AttributeValueMemberN{Value: itoa(member.OTPMaxAttempts)},
		},
	}}
	if r.SignIn {
		// The join is complete already: the code only opens a session.
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			useCode,
			{Put: &types.Put{TableName: &s.table, Item: sess, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			s.markActive(r.StoreID, r.GroupID, r.State.MemberID, now),
		}, ReturnConsumedCapacity: capacity})
		if reasons := cancelReasons(err); reasons != nil && reasons[0] == "ConditionalCheckFailed" {
			return member.ErrOTPUsed
		}
		return wrap("complete sign-in", err)
	}
	items := []types.TransactWriteItem{
		useCode,
		{Update: &types.Update{
			TableName: &s.table, Key: key(mpk, msk),
			UpdateExpression:          aws.String("SET VerifiedAt = if_not_exists(VerifiedAt, :now), VerifiedBy = if_not_exists(VerifiedBy, :by), UpdatedAt = :now"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowS, ":by": &types.AttributeValueMemberS{Value: "otp"}},
		}},
		{Update: &types.Update{
			TableName: &s.table, Key: key(spk, ssk),
			UpdateExpression:         aws.String("SET #S = :status, GSI1SK = :gsk"),
			ConditionExpression:      aws.String("#S = :pending"),
			ExpressionAttributeNames: map[string]string{"#S": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":status":  &types.AttributeValueMemberS{Value: string(v.Status)},
				":gsk":     &types.AttributeValueMemberS{Value: gsk},
				":pending": &types.AttributeValueMemberS{Value: string(member.StatusPendingVerification)},
			},
		}},
		{Put: &types.Put{TableName: &s.table, Item: sess, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	items = append(items, s.markActive(r.StoreID, r.GroupID, r.State.MemberID, now))
	roles := []string{"otp", "member", "membership", "session", "active"}
	for _, u := range joinCounters(r, v.Status, now) {
		items = append(items, types.TransactWriteItem{Update: u.update(s.table)})
		roles = append(roles, "stats")
	}
	if r.Path != member.PathQR {
		// An invite or referral counts one use when the join it started completes.
		cpk, csk := codeKey(r.Code)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key(cpk, csk),
			UpdateExpression:    aws.String("ADD Uses :one"),
			ConditionExpression: aws.String("attribute_exists(PK) AND (MaxUses = :zero OR attribute_not_exists(MaxUses) OR Uses < MaxUses)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": &types.AttributeValueMemberN{Value: "1"}, ":zero": &types.AttributeValueMemberN{Value: "0"},
			},
		}})
		roles = append(roles, "code")
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
	if reasons := cancelReasons(err); reasons != nil {
		for i, reason := range reasons {
			if reason != "ConditionalCheckFailed" {
				continue
			}
			switch roles[i] {
			case "otp", "membership":
				return member.ErrOTPUsed
			case "member":
				return member.ErrNotFound
			case "code":
				return group.ErrCodeUsedUp
			}
		}
	}
	return wrap("complete verification", err)
}

// Session is a member's signed-in session.
type Session struct {
	StoreID    string
	MemberID   string
	ValidUntil time.Time
	TokenHash  string
}

// GetSession returns the session whose token hashes to tokenHash, or fail.ErrUnauthorized. The
// caller checks ValidUntil: TTL deletes expired items only eventually.
func (s *Store) GetSession(ctx context.Context, tokenHash string) (Session, error) {
	pk, sk := sessionKey(tokenHash)
	var it sessionItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return Session{}, fail.ErrUnauthorized
		}
		return Session{}, wrap("get session", err)
	}
	return Session{StoreID: it.StoreID, MemberID: it.MemberID, ValidUntil: it.ValidUntil, TokenHash: tokenHash}, nil
}

// MemberHome returns a member's profile and memberships in one Query of their partition.
func (s *Store) MemberHome(ctx context.Context, store, memberID string) (member.Member, []member.Membership, error) {
	p, err := s.MemberPage(ctx, store, memberID)
	return p.Member, p.Memberships, err
}

// MemberPage is everything in a member's partition: profile, memberships, family links, and
// the member's copies of their Q&A bookings (the latest maxBookingsOnPage, ended ones too until
// they expire).
type MemberPage struct {
	Member      member.Member
	Memberships []member.Membership
	Links       []member.FamilyLink
	Bookings    []MemberBooking
	PhoneHash   string // the key of the phone lookup, which erasure removes
	// Pushes are the campaign messages the weekly budget's ledger holds, oldest first: those sent
	// within seven days of the latest (a send drops the older ones as it is counted).
	Pushes []Push
}

// maxBookingsOnPage bounds the booking copies the member-page Query reads; they sort last in
// the partition, so groups and links are never crowded out.
const maxBookingsOnPage = 50

// MemberPage reads a member's partition in one Query.
func (s *Store) MemberPage(ctx context.Context, store, memberID string) (MemberPage, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: memberPK(store, memberID)}},
		Limit:                     aws.Int32(maxGroupsPerMember + MaxFamilyLinks + 1 + maxBookingsOnPage),
		ConsistentRead:            aws.Bool(true), // a link created or revoked a moment ago shows
		ReturnConsumedCapacity:    capacity,
	})
	if err != nil {
		return MemberPage{}, wrap("member page", err)
	}
	var p MemberPage
	var found bool
	for _, raw := range res.Items {
		var t struct{ T string }
		if err := attributevalue.UnmarshalMap(raw, &t); err != nil {
			return MemberPage{}, wrap("member page", err)
		}
		switch t.T {
		case typeMember:
			var it profileItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return MemberPage{}, wrap("member page", err)
			}
			if p.Member, err = s.memberFrom(ctx, it.memberItem); err != nil {
				return MemberPage{}, err
			}
			p.PhoneHash = it.PhoneHash
			p.Pushes = pushesOf(it.Pushes)
			found = true
		case typeMembership:
			var it membershipItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return MemberPage{}, wrap("member page", err)
			}
			p.Memberships = append(p.Memberships, it.membership())
		case typeFamilyLink:
			var it familyLinkItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return MemberPage{}, wrap("member page", err)
			}
			l, err := s.linkFrom(ctx, it)
			if err != nil {
				return MemberPage{}, wrap("member page", err)
			}
			p.Links = append(p.Links, l)
		case typeMemberBooking:
			var it memberBookingItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return MemberPage{}, wrap("member page", err)
			}
			p.Bookings = append(p.Bookings, it.booking())
		}
	}
	if !found {
		return MemberPage{}, member.ErrNotFound
	}
	return p, nil
}

// maxGroupsPerMember bounds "my page": a senior in more groups of one store than this sees the
// first ones. (Stores run a handful of groups.)
const maxGroupsPerMember = 50

// GetGroups returns the named groups of a store in one BatchGetItem (ids ≤ 100); missing ones
// are absent from the map.
func (s *Store) GetGroups(ctx context.Context, store string, ids []string) (map[string]group.Group, error) {
	out := make(map[string]group.Group, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([][2]string, len(ids))
	for i, id := range ids {
		pk, sk := groupKey(store, id)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, wrap("get groups", err)
	}
	for _, raw := range items {
		var it groupItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, wrap("get groups", err)
		}
		out[it.ID] = it.group()
	}
	return out, nil
}

// statsRetention keeps a day's join counts a little over a year: enough for "last 30 days" and a
// year-on-year look, and no table that grows forever.
const statsRetention = 400 * 24 * time.Hour

// counterUpdate adds to numeric attributes of one stats item.
type counterUpdate struct {
	pk, sk string
	add    map[string]int
	ttl    int64 // 0: kept
}

func (c counterUpdate) update(table string) *types.Update {
	expr := "ADD "
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	i := 0
	for attr, n := range c.add {
		if i > 0 {
			expr += ", "
		}
		expr += fmt.Sprintf("#a%d :v%d", i, i)
		names[fmt.Sprintf("#a%d", i)] = attr
		vals[fmt.Sprintf(":v%d", i)] = &types.AttributeValueMemberN{Value: itoa(n)}
		i++
	}
	if c.ttl > 0 {
		expr += " SET ExpiresAt = :ttl"
		vals[":ttl"] = &types.AttributeValueMemberN{Value: fmt.Sprint(c.ttl)}
	}
	return &types.Update{TableName: &table, Key: key(c.pk, c.sk), UpdateExpression: &expr,
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals}
}

// joinCounters are the group-health counters a completed join moves: the totals, today's joins
// by path, and the referrer's count.
func joinCounters(r OTPRecord, status member.Status, now time.Time) []counterUpdate {
	totals := map[string]int{"Active": 1}
	if status == member.StatusPendingApproval {
		totals = map[string]int{"PendingApproval": 1}
	}
	pk, sk := groupTotalsKey(r.StoreID, r.GroupID)
	out := []counterUpdate{{pk: pk, sk: sk, add: totals}}
	pk, sk = groupDayKey(r.StoreID, r.GroupID, now.UTC().Format("2006-01-02"))
	out = append(out, counterUpdate{pk: pk, sk: sk, add: map[string]int{joinedAttr(r.Path): 1}, ttl: ttl(now.Add(statsRetention))})
	if r.Path == member.PathReferral && r.Referrer != "" {
		pk, sk = groupReferrerKey(r.StoreID, r.GroupID, r.Referrer)
		out = append(out, counterUpdate{pk: pk, sk: sk, add: map[string]int{"Referrals": 1}})
	}
	return out
}

func joinedAttr(p member.JoinPath) string {
	switch p {
	case member.PathInvite:
		return "JoinedInvite"
	case member.PathReferral:
		return "JoinedReferral"
	}
	return "JoinedQR"
}

// CreateReferral gives a member their own code into a group they are active in: the code's
// lookup and the membership's note of it, in one transaction. ErrExists if the member has one
// already (the caller answers with it); ErrCodeTaken if the drawn code collided.
func (s *Store) CreateReferral(ctx context.Context, ms member.Membership, code string, now time.Time) error {
	cpk, csk := codeKey(code)
	ci, err := attributevalue.MarshalMap(codeItem{PK: cpk, SK: csk, T: typeCode, Code: code, Kind: string(group.CodeReferral),
		StoreID: ms.StoreID, GroupID: ms.GroupID, CreatedBy: ms.MemberID, CreatedAt: now})
	if err != nil {
		return wrap("create referral", err)
	}
	mpk, msk := membershipKey(ms.StoreID, ms.MemberID, ms.GroupID)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: &s.table, Key: key(mpk, msk),
				UpdateExpression:          aws.String("SET ReferralCode = :code"),
				ConditionExpression:       aws.String("#S = :active AND attribute_not_exists(ReferralCode)"),
				ExpressionAttributeNames:  map[string]string{"#S": "Status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":code": &types.AttributeValueMemberS{Value: code}, ":active": &types.AttributeValueMemberS{Value: string(member.StatusActive)}},
			}},
			{Put: &types.Put{TableName: &s.table, Item: ci, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		},
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case reasons[0] == "ConditionalCheckFailed":
			return ErrExists
		case reasons[1] == "ConditionalCheckFailed":
			return ErrCodeTaken
		}
	}
	return wrap("create referral", err)
}

// SignInWrite is a code sent to a member whose join is complete, to open a session on a new
// phone or browser. Only the code and the hourly send counters are written.
type SignInWrite struct {
	Membership member.Membership
	PhoneHash  string
	OTP        member.OTPState
	ClientHash string // as in SignupWrite
	Now        time.Time
}

// IssueSignIn stores a sign-in code and counts it against the phone's hourly limit
// (member.ErrOTPSendLimit once reached) and the caller's address's (member.ErrOTPClientLimit).
func (s *Store) IssueSignIn(ctx context.Context, w SignInWrite) error {
	ms := w.Membership
	opk, osk := otpKey(ms.MemberID)
	oi, err := attributevalue.MarshalMap(otpItem{
		PK: opk, SK: osk, T: typeOTP, MemberID: ms.MemberID, StoreID: ms.StoreID, GroupID: ms.GroupID,
		Path: string(ms.Path), Code: ms.Code, JoinedAt: ms.JoinedAt, SignIn: true, Status: string(ms.Status),
		Hash: w.OTP.Hash, ValidUntil: w.OTP.ExpiresAt, ExpiresAt: ttl(w.OTP.ExpiresAt.Add(otpRetention)),
	})
	if err != nil {
		return wrap("issue sign-in", err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: oi}},
		s.countOTPSend(ms.StoreID, w.PhoneHash, w.Now),
	}
	if w.ClientHash != "" {
		items = append(items, s.countClientOTPSend(w.ClientHash, w.Now))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          items,
		ReturnConsumedCapacity: capacity,
	})
	if reasons := cancelReasons(err); reasons != nil {
		switch {
		case reasons[1] == "ConditionalCheckFailed":
			return member.ErrOTPSendLimit
		case len(reasons) > 2 && reasons[2] == "ConditionalCheckFailed":
			return member.ErrOTPClientLimit
		}
	}
	return wrap("issue sign-in", err)
}

// countOTPSend counts one code sent to a phone in the current UTC hour, on condition that fewer
// than member.OTPMaxPerHour went before it; the counter expires after two hours.
func (s *Store) countOTPSend(store, phoneHash string, now time.Time) types.TransactWriteItem {
	pk, sk := otpRateKey(store, phoneHash, now.UTC().Format("2006010215"))
	return s.countHourly(pk, sk, member.OTPMaxPerHour, now)
}

// countClientOTPSend counts one code sent on behalf of a client address in the current UTC hour,
// on condition that fewer than member.OTPMaxPerHourPerClient went before it. It joins the same
// transaction as countOTPSend, so the limit costs no call of its own.
func (s *Store) countClientOTPSend(clientHash string, now time.Time) types.TransactWriteItem {
	pk, sk := otpClientRateKey(clientHash, now.UTC().Format("2006010215"))
	return s.countHourly(pk, sk, member.OTPMaxPerHourPerClient, now)
}

// countHourly adds one to the hourly counter at (pk, sk) on condition that it is below limit;
// the counter expires after two hours, when its hour is long past.
func (s *Store) countHourly(pk, sk string, limit int, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                &s.table,
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("ADD #C :one SET #T = :t, ExpiresAt = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#C) OR #C < :max"),
		ExpressionAttributeNames: map[string]string{"#C": "Count", "#T": "T"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":max": &types.AttributeValueMemberN{Value: itoa(limit)},
			":t":   &types.AttributeValueMemberS{Value: typeOTPRate},
			":exp": &types.AttributeValueMemberN{Value: fmt.Sprint(ttl(now.Add(2 * time.Hour)))},
		},
	}}
}

// activeRetention is the window of "active in the last 30 days".
const activeRetention = 30 * 24 * time.Hour

// markActive records that a member did something in a group now (completed a join, signed in;
// acknowledging reminders and booking seats join with their issues).
func (s *Store) markActive(store, groupID, memberID string, now time.Time) types.TransactWriteItem {
	pk, sk := groupActiveKey(store, groupID, memberID)
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
		"T":         &types.AttributeValueMemberS{Value: "active"},
		"LastSeen":  &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)},
		"ExpiresAt": &types.AttributeValueMemberN{Value: fmt.Sprint(ttl(now.Add(activeRetention)))},
	}}}
}

// countActive counts a group's members active in the last 30 days. TTL deletes expired markers
// only eventually, so the filter decides; the markers are small, one Query page holds thousands.
func (s *Store) countActive(ctx context.Context, store, groupID string, now time.Time) (int, error) {
	pk, _ := groupActiveKey(store, groupID, "")
	total := 0
	var start map[string]types.AttributeValue
	for page := 0; page < 10; page++ {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :active)"),
			FilterExpression:       aws.String("LastSeen >= :since"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":     &types.AttributeValueMemberS{Value: pk},
				":active": &types.AttributeValueMemberS{Value: "ACTIVE#"},
				":since":  &types.AttributeValueMemberS{Value: now.UTC().Add(-activeRetention).Format(time.RFC3339)},
			},
			Select:                 types.SelectCount,
			ExclusiveStartKey:      start,
			ReturnConsumedCapacity: capacity,
		})
		if err != nil {
			return 0, wrap("count active members", err)
		}
		total += int(res.Count)
		if start = res.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	return total, nil
}
