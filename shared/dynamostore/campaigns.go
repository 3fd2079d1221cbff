package dynamostore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"yinling/shared/fail"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/member"
	"yinling/shared/promo"
)

// Campaigns: the campaign and its stats (campaignKey, campaignStatsKey), and the delivery chunks
// the fan-out writes (offerChunkKey). A member's weekly budget is a ledger on their profile item,
// so the one BatchGetItem that reads 100 profiles for the fan-out reads their budgets too, and
// the chunk's transaction that counts a send in each recipient's ledger is what makes a member
// reached at most once per campaign run: it is conditional on the ledger being as it was read.

const (
	typeCampaign   = "campaign"
	typeOfferChunk = "offerchunk"
)

// StatsShards is how many items a campaign's stats are spread over.
const StatsShards = 10

// CampaignRetention is how long a campaign's chunks — who was sent what, and who opened it —
// are kept after the last send or the end of the offer's pickup, whichever is later.
const CampaignRetention = 90 * 24 * time.Hour

type campaignItem struct {
	PK          string         `dynamodbav:"PK"`
	SK          string         `dynamodbav:"SK"`
	T           string         `dynamodbav:"T"`
	GSI1PK      string         `dynamodbav:"GSI1PK"`
	GSI1SK      string         `dynamodbav:"GSI1SK"`
	DuePK       string         `dynamodbav:"DuePK,omitempty"` // set while a run waits for its time
	DueSK       string         `dynamodbav:"DueSK,omitempty"`
	ID          string         `dynamodbav:"ID"`
	StoreID     string         `dynamodbav:"StoreID"`
	Kind        string         `dynamodbav:"Kind"`
	Title       string         `dynamodbav:"Title"`
	Body        string         `dynamodbav:"Body"`
	ImageURL    string         `dynamodbav:"ImageURL,omitempty"`
	Groups      []string       `dynamodbav:"Groups"`
	Tags        []string       `dynamodbav:"Tags,omitempty"`
	Tiers       []string       `dynamodbav:"Tiers,omitempty"`
	AgeBands    []string       `dynamodbav:"AgeBands,omitempty"`
	Match       string         `dynamodbav:"Match"`
	Prices      map[string]int `dynamodbav:"Prices,omitempty"`
	PickupPlace string         `dynamodbav:"PickupPlace,omitempty"`
	PickupFrom  *time.Time     `dynamodbav:"PickupFrom,omitempty"`
	PickupUntil *time.Time     `dynamodbav:"PickupUntil,omitempty"`
	Channel     string         `dynamodbav:"Channel"`
	SendAt      time.Time      `dynamodbav:"SendAt"`
	Days        int            `dynamodbav:"Days"`
	Run         int            `dynamodbav:"Run"`
	Status      string         `dynamodbav:"Status"`
	CreatedBy   string         `dynamodbav:"CreatedBy"`
	CancelledBy string         `dynamodbav:"CancelledBy,omitempty"`
	CreatedAt   time.Time      `dynamodbav:"CreatedAt"`
	UpdatedAt   time.Time      `dynamodbav:"UpdatedAt"`
}

func toCampaignItem(c promo.Campaign) campaignItem {
	pk, sk := campaignKey(c.StoreID, c.ID)
	gpk, gsk := storeCampaignsKey(c.StoreID, c.CreatedAt.UTC().Format(time.RFC3339), c.ID)
	it := campaignItem{PK: pk, SK: sk, T: typeCampaign, GSI1PK: gpk, GSI1SK: gsk, ID: c.ID, StoreID: c.StoreID,
		Kind: string(c.Kind), Title: c.Title, Body: c.Body, ImageURL: c.ImageURL, Groups: c.Audience.Groups,
		Tags: c.Audience.Tags, Match: string(c.Audience.Match), Channel: string(c.Channel), SendAt: c.SendAt.UTC(),
		Days: c.Days, Run: c.Run, Status: string(c.Status), CreatedBy: c.CreatedBy, CancelledBy: c.CancelledBy,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	for _, t := range c.Audience.Tiers {
		it.Tiers = append(it.Tiers, string(t))
	}
	for _, b := range c.Audience.AgeBands {
		it.AgeBands = append(it.AgeBands, string(b))
	}
	if o := c.Offer; o != nil {
		it.Prices = map[string]int{}
		for t, p := range o.Prices {
			it.Prices[string(t)] = p
		}
		it.PickupPlace, it.PickupFrom, it.PickupUntil = o.PickupPlace, timePtr(o.PickupFrom), timePtr(o.PickupUntil)
	}
	if c.Status == promo.StatusScheduled {
		// Never a minute the dispatcher may have read already: a campaign due now is also
		// started at once by its create, and the Due index is what starts it if that fails.
		at := c.RunAt(c.Run)
		if next := c.UpdatedAt.Truncate(time.Minute).Add(time.Minute); at.Before(next) {
			at = next
		}
		it.DuePK, it.DueSK = campaignDue(c.StoreID, c.ID, at)
	}
	return it
}

// campaignDue places a campaign run waiting for at in the Due index, where the dispatcher finds
// it in that minute and starts the run's fan-out.
func campaignDue(store, campaign string, at time.Time) (pk, sk string) {
	return duePK(at.UTC().Format(dueMinuteLayout), dueShard(campaign)), store + "#C#" + campaign
}

func (it campaignItem) campaign() promo.Campaign {
	c := promo.Campaign{ID: it.ID, StoreID: it.StoreID, Kind: promo.Kind(it.Kind), Title: it.Title, Body: it.Body,
		ImageURL: it.ImageURL, Audience: promo.Audience{Groups: it.Groups, Tags: it.Tags, Match: promo.Match(it.Match)},
		Channel: promo.Channel(it.Channel), SendAt: it.SendAt, Days: max(it.Days, 1), Run: it.Run,
		Status: promo.Status(it.Status), CreatedBy: it.CreatedBy, CancelledBy: it.CancelledBy,
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	for _, t := range it.Tiers {
		c.Audience.Tiers = append(c.Audience.Tiers, member.Tier(t))
	}
	for _, b := range it.AgeBands {
		c.Audience.AgeBands = append(c.Audience.AgeBands, member.AgeBand(b))
	}
	if it.Prices != nil {
		o := &promo.Offer{Prices: map[member.Tier]int{}, PickupPlace: it.PickupPlace}
		for t, p := range it.Prices {
			o.Prices[member.Tier(t)] = p
		}
		if it.PickupFrom != nil {
			o.PickupFrom = *it.PickupFrom
		}
		if it.PickupUntil != nil {
			o.PickupUntil = *it.PickupUntil
		}
		c.Offer = o
	}
	return c
}

// statsItem is one shard of a campaign's stats: counters only, each written with ADD.
type statsItem struct {
	Audience     int            `dynamodbav:"Audience"`
	Queued       int            `dynamodbav:"Queued"`
	Deferred     int            `dynamodbav:"Deferred"`
	Sent         int            `dynamodbav:"Sent"`
	Failed       int            `dynamodbav:"Failed"`
	Skipped      int            `dynamodbav:"Skipped"`
	Opened       int            `dynamodbav:"Opened"`
	Unsubscribed int            `dynamodbav:"Unsubscribed"`
	Suppressed   map[string]int `dynamodbav:"-"`
}

// statsAdd is the Update that adds a chunk's delta to its campaign's stats, in the shard the
// chunk's code picks: chunks written or recorded at once seldom share an item.
func (s *Store) statsAdd(ch OfferChunk, d promo.Stats) *types.Update {
	pk, sk := campaignStatsKey(ch.StoreID, ch.CampaignID, dueShard(ch.Code)%StatsShards)
	var parts []string
	vals := map[string]types.AttributeValue{}
	names := map[string]string{} // several counter names (Deferred…) are reserved words
	add := func(attr string, n int) {
		if n == 0 {
			return
		}
		i := strconv.Itoa(len(vals))
		parts = append(parts, "#a"+i+" :v"+i)
		names["#a"+i], vals[":v"+i] = attr, &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
	}
	add("Audience", d.Audience)
	add("Queued", d.Queued)
	add("Deferred", d.Deferred)
	add("Sent", d.Sent)
	add("Failed", d.Failed)
	add("Skipped", d.Skipped)
	add("Opened", d.Opened)
	add("Unsubscribed", d.Unsubscribed)
	for _, r := range promo.SuppressionReasons {
		add("Sup_"+string(r), d.Suppressed[r])
	}
	if len(parts) == 0 {
		return nil
	}
	return &types.Update{TableName: &s.table, Key: key(pk, sk), UpdateExpression: aws.String("ADD " + strings.Join(parts, ", ")),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals}
}

func statsFrom(raw map[string]types.AttributeValue) (promo.Stats, error) {
	var it statsItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return promo.Stats{}, err
	}
	st := promo.Stats{Audience: it.Audience, Queued: it.Queued, Deferred: it.Deferred, Sent: it.Sent, Failed: it.Failed,
		Skipped: it.Skipped, Opened: it.Opened, Unsubscribed: it.Unsubscribed, Suppressed: map[promo.Reason]int{}}
	for _, r := range promo.SuppressionReasons {
		if n, ok := raw["Sup_"+string(r)].(*types.AttributeValueMemberN); ok {
			v, err := strconv.Atoi(n.Value)
			if err != nil {
				return promo.Stats{}, err
			}
			st.Suppressed[r] = v
		}
	}
	return st, nil
}

// CreateCampaign stores a new campaign (ErrExists if its id is taken). A scheduled campaign is
// placed in the Due index at its time; the caller may also start a campaign due now at once.
func (s *Store) CreateCampaign(ctx context.Context, c promo.Campaign) error {
	return wrap("create campaign", s.putNew(ctx, toCampaignItem(c)))
}

// Campaign returns a campaign of a store with its stats, read strongly, in one Query; or
// promo.ErrNotFound, also for another store's campaign.
func (s *Store) Campaign(ctx context.Context, store, id string) (promo.Campaign, promo.Stats, error) {
	pk, _ := campaignKey(store, id)
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":sk": &types.AttributeValueMemberS{Value: skCampaign}},
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: capacity,
	})
	if err != nil {
		return promo.Campaign{}, promo.Stats{}, wrap("get campaign", err)
	}
	var c *promo.Campaign
	st := promo.Stats{Suppressed: map[promo.Reason]int{}}
	for _, raw := range res.Items {
		var k struct{ SK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return promo.Campaign{}, promo.Stats{}, wrap("get campaign", err)
		}
		if k.SK == skCampaign {
			var it campaignItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return promo.Campaign{}, promo.Stats{}, wrap("get campaign", err)
			}
			cc := it.campaign()
			c = &cc
			continue
		}
		shard, err := statsFrom(raw)
		if err != nil {
			return promo.Campaign{}, promo.Stats{}, wrap("get campaign stats", err)
		}
		st = st.Add(shard)
	}
	if c == nil {
		return promo.Campaign{}, promo.Stats{}, promo.ErrNotFound
	}
	return *c, st, nil
}

// ListCampaigns lists a store's campaigns, newest first.
func (s *Store) ListCampaigns(ctx context.Context, store, cursor string, limit int) (Page[promo.Campaign], error) {
	gpk, _ := storeCampaignsKey(store, "", "")
	return partitionPage(ctx, s, "list campaigns", listing{pk: gpk, gsi1: true, newestFirst: true}, cursor, limit, campaignItem.campaign)
}

// ErrCampaignChanged: the campaign changed between read and write; read again.
var ErrCampaignChanged = errors.New("dynamostore: campaign changed since it was read")

// SaveCampaignStatus writes c's status, run and cancellation (as promo.Campaign.Cancel or the
// fan-out left them) if the campaign is still as it was at prevUpdatedAt (ErrCampaignChanged
// otherwise). A scheduled campaign is placed in the Due index at its run's time; any other
// leaves it.
func (s *Store) SaveCampaignStatus(ctx context.Context, c promo.Campaign, prevUpdatedAt time.Time) error {
	it := toCampaignItem(c)
	vals, err := attributevalue.MarshalMap(map[string]any{":st": it.Status, ":run": it.Run, ":by": it.CancelledBy,
		":now": it.UpdatedAt, ":prev": prevUpdatedAt.UTC()})
	if err != nil {
		return wrap("save campaign", err)
	}
	expr := "SET #St = :st, #Run = :run, CancelledBy = :by, UpdatedAt = :now"
	if it.DuePK != "" {
		expr += ", DuePK = :dpk, DueSK = :dsk"
		vals[":dpk"], vals[":dsk"] = &types.AttributeValueMemberS{Value: it.DuePK}, &types.AttributeValueMemberS{Value: it.DueSK}
	} else {
		expr += " REMOVE DuePK, DueSK"
	}
	pk, sk := campaignKey(c.StoreID, c.ID)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(pk, sk), UpdateExpression: &expr,
		ConditionExpression:       aws.String("attribute_exists(PK) AND UpdatedAt = :prev"),
		ExpressionAttributeNames:  map[string]string{"#St": "Status", "#Run": "Run"},
		ExpressionAttributeValues: vals, ReturnConsumedCapacity: capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrCampaignChanged
	}
	return wrap("save campaign", err)
}

// ---- The fan-out ----

// FanoutContext is what one fan-out page needs besides the audience: the campaign and the caps
// of its store and of the group being read.
type FanoutContext struct {
	Campaign   promo.Campaign
	StoreCap   int
	GroupCap   int  // 0: the group has no cap of its own
	GroupFound bool // false: the group was deleted since the campaign was made
	PaidQuota  int  // the store's daily quota of paid messages
	StoreZone  string
}

// LoadFanout reads a campaign, its store and one of its groups in one BatchGetItem.
func (s *Store) LoadFanout(ctx context.Context, store, campaign, groupID string) (FanoutContext, error) {
	cpk, csk := campaignKey(store, campaign)
	spk, ssk := storeKey(store)
	gpk, gsk := groupKey(store, groupID)
	items, err := s.batchGet(ctx, [][2]string{{cpk, csk}, {spk, ssk}, {gpk, gsk}})
	if err != nil {
		return FanoutContext{}, wrap("load fan-out", err)
	}
	var out FanoutContext
	found := false
	for _, raw := range items {
		var k struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return FanoutContext{}, wrap("load fan-out", err)
		}
		switch {
		case k.PK == cpk:
			var it campaignItem
			err = attributevalue.UnmarshalMap(raw, &it)
			out.Campaign, found = it.campaign(), true
		case k.SK == ssk:
			var it storeItem
			err = attributevalue.UnmarshalMap(raw, &it)
			st := it.store()
			out.StoreCap, out.PaidQuota, out.StoreZone = st.PushCap, st.PaidQuota, st.TimeZone
		case k.SK == gsk:
			var it groupItem
			err = attributevalue.UnmarshalMap(raw, &it)
			out.GroupCap, out.GroupFound = it.PushCap, true
		}
		if err != nil {
			return FanoutContext{}, wrap("load fan-out", err)
		}
	}
	if !found {
		return FanoutContext{}, promo.ErrNotFound
	}
	return out, nil
}

// AudiencePage reads up to limit active members of a group, from cursor on (a cursor from the
// previous page; "" for the first). The next cursor is "" after the last page.
func (s *Store) AudiencePage(ctx context.Context, store, groupID, cursor string, limit int) ([]string, string, error) {
	pk, _ := groupMembersKey(store, groupID, "", "", "")
	start, err := decodeCursor(cursor, attrGSI1PK, pk, attrPK, attrSK, attrGSI1PK, attrGSI1SK)
	if err != nil {
		return nil, "", err
	}
	ms, lek, err := s.queryGroupMembers(ctx, pk, member.StatusActive, start, limit)
	if err != nil {
		return nil, "", wrap("read audience", err)
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.MemberID
	}
	return ids, encodeCursor(lek), nil
}

// Recipient is a member as the fan-out and the sender see them: the profile, with the pushes
// they were sent in the last seven days and whether they unsubscribed.
type Recipient struct {
	member.Member
	OptedOut bool
	pushes   []string // "<unix seconds>#<kind>#<campaign>#<run>", oldest first
	rev      int      // of the ledger: the condition of the next write
}

// Ledger is the member's ledger of one kind of push.
func (r Recipient) Ledger(k promo.Kind) promo.Ledger {
	var out promo.Ledger
	for _, p := range r.pushes {
		at, kind, _, _, ok := parsePush(p)
		if ok && kind == string(k) {
			out = append(out, at)
		}
	}
	return out
}

// Reached reports whether run run of campaign is already in the member's ledger.
func (r Recipient) Reached(campaign string, run int) bool {
	return slices.ContainsFunc(r.pushes, func(p string) bool {
		_, _, c, n, ok := parsePush(p)
		return ok && c == campaign && n == run
	})
}

// Push is one campaign message in a member's ledger.
type Push struct {
	At       time.Time
	Kind     promo.Kind
	Campaign string
	Run      int // the day of a daily campaign, from 0
}

// pushesOf parses a ledger's entries (one that does not parse is left out).
func pushesOf(entries []string) []Push {
	var out []Push
	for _, e := range entries {
		if at, kind, c, run, ok := parsePush(e); ok {
			out = append(out, Push{At: at, Kind: promo.Kind(kind), Campaign: c, Run: run})
		}
	}
	return out
}

func pushEntry(at time.Time, k promo.Kind, campaign string, run int) string {
	return strconv.FormatInt(at.Unix(), 10) + "#" + string(k) + "#" + campaign + "#" + strconv.Itoa(run)
}

func parsePush(p string) (at time.Time, kind, campaign string, run int, ok bool) {
	parts := strings.Split(p, "#")
	if len(parts) != 4 {
		return time.Time{}, "", "", 0, false
	}
	sec, err1 := strconv.ParseInt(parts[0], 10, 64)
	n, err2 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil {
		return time.Time{}, "", "", 0, false
	}
	return time.Unix(sec, 0).UTC(), parts[1], parts[2], n, true
}

// pushItem is what the push ledger adds to a profile item.
type pushItem struct {
	Pushes     []string   `dynamodbav:"Pushes,omitempty"`
	PushRev    int        `dynamodbav:"PushRev"`
	OptedOutAt *time.Time `dynamodbav:"OptedOutAt,omitempty"`
}

// profileItem is a profile item read whole, in one decoding: the member and their push ledger.
type profileItem struct {
	memberItem
	pushItem
}

// Recipients reads the profiles of up to 100 members in one BatchGetItem, strongly. A member
// erased since is absent.
func (s *Store) Recipients(ctx context.Context, store string, ids []string) (map[string]Recipient, error) {
	keys := make([][2]string, len(ids))
	for i, id := range ids {
		pk, sk := memberKey(store, id)
		keys[i] = [2]string{pk, sk}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, wrap("read recipients", err)
	}
	out := make(map[string]Recipient, len(items))
	for _, raw := range items {
		r, err := s.recipientFrom(ctx, raw)
		if err != nil {
			return nil, wrap("read recipients", err)
		}
		out[r.ID] = r
	}
	return out, nil
}

func (s *Store) recipientFrom(ctx context.Context, raw map[string]types.AttributeValue) (Recipient, error) {
	var it profileItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return Recipient{}, err
	}
	m, err := s.memberFrom(ctx, it.memberItem)
	if err != nil {
		return Recipient{}, err
	}
	return Recipient{Member: m, OptedOut: it.OptedOutAt != nil, pushes: it.Pushes, rev: it.PushRev}, nil
}

// OfferChunk is one delivery chunk of a campaign run: up to MaxChunk members to contact through
// the campaign's channel (or, for a WeCom campaign, one group's robot), and the members of the
// same slice of the audience who were not contacted, with the reason. Outcomes fill in as the
// sender works; Opened lists who opened the offer page.
type OfferChunk struct {
	Code       string
	StoreID    string
	CampaignID string
	Run        int
	Page       int
	N          int
	GroupID    string
	Robot      bool // a post to the group's WeCom robot, not to members
	Members    []string
	Suppressed map[string]promo.Reason
	NotBefore  time.Time // quiet hours: not sent before (zero: at once)
	Outcomes   map[string]string
	Done       bool
	Opened     []string
	ExpiresAt  time.Time
}

// MaxChunk is how many members one chunk contacts: its transaction writes the chunk, the stats
// and the day's paid quota besides one ledger per member, within DynamoDB's 100 items.
const MaxChunk = 97

type chunkItem struct {
	PK         string            `dynamodbav:"PK"`
	SK         string            `dynamodbav:"SK"`
	T          string            `dynamodbav:"T"`
	DuePK      string            `dynamodbav:"DuePK,omitempty"`
	DueSK      string            `dynamodbav:"DueSK,omitempty"`
	Code       string            `dynamodbav:"Code"`
	StoreID    string            `dynamodbav:"StoreID"`
	CampaignID string            `dynamodbav:"CampaignID"`
	Run        int               `dynamodbav:"Run"`
	Page       int               `dynamodbav:"Page"`
	N          int               `dynamodbav:"N"`
	GroupID    string            `dynamodbav:"GroupID"`
	Robot      bool              `dynamodbav:"Robot,omitempty"`
	Members    []string          `dynamodbav:"Members,omitempty"`
	Suppressed map[string]string `dynamodbav:"Suppressed,omitempty"`
	NotBefore  *time.Time        `dynamodbav:"NotBefore,omitempty"`
	Outcomes   map[string]string `dynamodbav:"Outcomes,omitempty"`
	Done       bool              `dynamodbav:"Done,omitempty"`
	Opened     []string          `dynamodbav:"Opened,stringset,omitempty"`
	ExpiresAt  int64             `dynamodbav:"ExpiresAt"`
}

func toChunkItem(c OfferChunk) chunkItem {
	pk, sk := offerChunkKey(c.Code)
	it := chunkItem{PK: pk, SK: sk, T: typeOfferChunk, Code: c.Code, StoreID: c.StoreID, CampaignID: c.CampaignID,
		Run: c.Run, Page: c.Page, N: c.N, GroupID: c.GroupID, Robot: c.Robot, Members: c.Members,
		NotBefore: timePtr(c.NotBefore), Outcomes: c.Outcomes, Done: c.Done, Opened: c.Opened, ExpiresAt: ttl(c.ExpiresAt)}
	if len(c.Suppressed) > 0 {
		it.Suppressed = map[string]string{}
		for m, r := range c.Suppressed {
			it.Suppressed[m] = string(r)
		}
	}
	if !c.NotBefore.IsZero() && !c.Done {
		it.DuePK, it.DueSK = duePK(c.NotBefore.UTC().Format(dueMinuteLayout), dueShard(c.Code)), c.StoreID+"#O#"+c.Code
	}
	return it
}

func (it chunkItem) chunk() OfferChunk {
	c := OfferChunk{Code: it.Code, StoreID: it.StoreID, CampaignID: it.CampaignID, Run: it.Run, Page: it.Page, N: it.N,
		GroupID: it.GroupID, Robot: it.Robot, Members: it.Members, Outcomes: it.Outcomes, Done: it.Done, Opened: it.Opened,
		ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC()}
	if it.NotBefore != nil {
		c.NotBefore = *it.NotBefore
	}
	if len(it.Suppressed) > 0 {
		c.Suppressed = map[string]promo.Reason{}
		for m, r := range it.Suppressed {
			c.Suppressed[m] = promo.Reason(r)
		}
	}
	return c
}

// Chunks reads chunks by code, strongly, in one BatchGetItem per 100; a code never written is
// absent from the result, a code given twice is read once.
func (s *Store) Chunks(ctx context.Context, codes []string) (map[string]OfferChunk, error) {
	out := map[string]OfferChunk{}
	codes = slices.Compact(slices.Sorted(slices.Values(codes))) // BatchGetItem refuses a key twice
	for part := range slices.Chunk(codes, maxBatchGet) {
		keys := make([][2]string, len(part))
		for i, c := range part {
			pk, sk := offerChunkKey(c)
			keys[i] = [2]string{pk, sk}
		}
		items, err := s.batchGet(ctx, keys)
		if err != nil {
			return nil, wrap("read chunks", err)
		}
		for _, raw := range items {
			var it chunkItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, wrap("read chunks", err)
			}
			out[it.Code] = it.chunk()
		}
	}
	return out, nil
}

// ChunkWrite is one chunk with everything written with it, in one transaction: each recipient's
// ledger with the send counted (conditional on the ledger being as read), the stats it adds, and
// the store's paid quota.
type ChunkWrite struct {
	Chunk      OfferChunk
	Recipients []Recipient // those in Chunk.Members, as read
	Kind       promo.Kind
	At         time.Time // counted in the ledgers at this time
	Stats      promo.Stats
	// QuotaDay and QuotaMax, for a paid channel: the chunk's members are counted against the
	// store's quota of that day, and the write refused (ErrQuotaReached) if it would pass Max.
	QuotaDay string
	QuotaMax int
}

// Errors of WriteChunk.
var (
	// ErrChunkExists: a chunk with this code was written before (a redelivered or duplicated
	// fan-out message): read the page's chunks and carry on from them.
	ErrChunkExists = errors.New("dynamostore: chunk already written")
	// ErrQuotaReached: the store's paid messages for the day would pass its quota.
	ErrQuotaReached = errors.New("dynamostore: daily paid quota reached")
)

// LedgerChanged lists the recipients whose ledger (or profile) changed since it was read — by
// another campaign's chunk, or an erasure — so that the chunk was not written: read them again.
type LedgerChanged struct{ Members []string }

func (e *LedgerChanged) Error() string {
	return "dynamostore: ledgers changed since read: " + strings.Join(e.Members, ",")
}

// WriteChunk writes a chunk and everything with it in one transaction (see ChunkWrite). Races
// with other transactions on the stats are retried here; what the caller must decide again is
// returned: ErrChunkExists, *LedgerChanged, ErrQuotaReached.
func (s *Store) WriteChunk(ctx context.Context, w ChunkWrite) error {
	ci, err := attributevalue.MarshalMap(toChunkItem(w.Chunk))
	if err != nil {
		return wrap("write chunk", err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: ci,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	at := w.At.UTC()
	for _, r := range w.Recipients {
		pushes := []string{}
		for _, p := range r.pushes {
			if t, _, _, _, ok := parsePush(p); ok && t.After(at.Add(-promo.Window)) {
				pushes = append(pushes, p)
			}
		}
		pushes = append(pushes, pushEntry(at, w.Kind, w.Chunk.CampaignID, w.Chunk.Run))
		pl, err := attributevalue.Marshal(pushes)
		if err != nil {
			return wrap("write chunk", err)
		}
		cond := "attribute_exists(PK) AND attribute_not_exists(PushRev)"
		vals := map[string]types.AttributeValue{":p": pl, ":rev": &types.AttributeValueMemberN{Value: strconv.Itoa(r.rev + 1)}}
		if r.rev > 0 {
			cond = "PushRev = :prev"
			vals[":prev"] = &types.AttributeValueMemberN{Value: strconv.Itoa(r.rev)}
		}
		pk, sk := memberKey(r.StoreID, r.ID)
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression: aws.String("SET Pushes = :p, PushRev = :rev"), ConditionExpression: &cond,
			ExpressionAttributeValues: vals}})
	}
	if u := s.statsAdd(w.Chunk, w.Stats); u != nil {
		items = append(items, types.TransactWriteItem{Update: u})
	}
	quota := -1
	if w.QuotaDay != "" && len(w.Chunk.Members) > 0 {
		quota = len(items)
		pk, sk := paidQuotaKey(w.Chunk.StoreID, w.QuotaDay)
		n := len(w.Chunk.Members)
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression:    aws.String("ADD Queued :n SET ExpiresAt = :exp"),
			ConditionExpression: aws.String("attribute_not_exists(Queued) OR Queued <= :room"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":n":    &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
				":room": &types.AttributeValueMemberN{Value: strconv.Itoa(w.QuotaMax - n)},
				":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl(at.Add(7*24*time.Hour)), 10)},
			}}})
		if n > w.QuotaMax {
			return ErrQuotaReached
		}
	}
	for attempt := 0; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		reasons := cancelReasons(err)
		if err == nil || reasons == nil && !lostRace(err) {
			return wrap("write chunk", err)
		}
		if len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
			return ErrChunkExists
		}
		if quota >= 0 && len(reasons) > quota && reasons[quota] == "ConditionalCheckFailed" {
			return ErrQuotaReached
		}
		var changed []string
		for i, r := range w.Recipients {
			if len(reasons) > i+1 && reasons[i+1] == "ConditionalCheckFailed" {
				changed = append(changed, r.ID)
			}
		}
		if len(changed) > 0 {
			return &LedgerChanged{Members: changed}
		}
		if attempt >= raceAttempts {
			return wrap("write chunk", err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// raceAttempts bounds the retries of a write that lost a race with another transaction.
const raceAttempts = 8

// ReleaseChunk takes a deferred chunk out of the Due index once the dispatcher enqueued it.
func (s *Store) ReleaseChunk(ctx context.Context, code string) error {
	pk, sk := offerChunkKey(code)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk, sk),
		UpdateExpression: aws.String("REMOVE DuePK, DueSK"), ConditionExpression: aws.String("attribute_exists(PK)"),
		ReturnConsumedCapacity: capacity})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // expired meanwhile
	}
	return wrap("release chunk", err)
}

// ---- Delivery ----

// ChunkClaim is a chunk claimed by one sender: the chunk as it stood, and the claim's token.
type ChunkClaim struct {
	Chunk OfferChunk
	token string
}

// Claim results besides a claim.
var (
	ErrChunkDone = errors.New("dynamostore: chunk already delivered")
	ErrChunkBusy = errors.New("dynamostore: chunk claimed by another sender")
	ErrNoChunk   = errors.New("dynamostore: no such chunk")
)

// ClaimChunk claims a chunk until until, reading it in the same call: ErrChunkDone if every
// recipient has an outcome, ErrChunkBusy if another sender holds an unexpired claim. A claim
// left by a crash expires; the next claim sends only to recipients without an outcome.
func (s *Store) ClaimChunk(ctx context.Context, code, token string, now, until time.Time) (ChunkClaim, error) {
	pk, sk := offerChunkKey(code)
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk, sk),
		UpdateExpression:    aws.String("SET ClaimUntil = :until, ClaimToken = :tok"),
		ConditionExpression: aws.String("attribute_exists(PK) AND attribute_not_exists(Done) AND (attribute_not_exists(ClaimUntil) OR ClaimUntil < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": &types.AttributeValueMemberN{Value: strconv.FormatInt(until.UnixMilli(), 10)},
			":now":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
			":tok":   &types.AttributeValueMemberS{Value: token},
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              capacity,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var it chunkItem
		switch {
		case ccf.Item == nil:
			return ChunkClaim{}, ErrNoChunk
		case attributevalue.UnmarshalMap(ccf.Item, &it) == nil && it.Done:
			return ChunkClaim{}, ErrChunkDone
		}
		return ChunkClaim{}, ErrChunkBusy
	}
	if err != nil {
		return ChunkClaim{}, wrap("claim chunk", err)
	}
	var it chunkItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return ChunkClaim{}, wrap("claim chunk", err)
	}
	return ChunkClaim{Chunk: it.chunk(), token: token}, nil
}

// Outcome states of a chunk's recipient (or robot, keyed by the group).
const (
	PushSent    = "sent"
	PushFailed  = "failed"  // the provider refused it for good
	PushSkipped = "skipped" // not sent: the campaign was cancelled, or the member withdrew consent
)

// RecordChunk records outcomes (recipient → state, "failed:<reason>" and "skipped:<reason>"
// allowed) on a claimed chunk, with the stats they add, and releases the claim; the chunk is done
// when every recipient has an outcome. Recipients without one (a transient failure) are tried
// again by the next claim.
func (s *Store) RecordChunk(ctx context.Context, cl ChunkClaim, outcomes map[string]string, d promo.Stats) error {
	all := map[string]string{}
	for m, o := range cl.Chunk.Outcomes {
		all[m] = o
	}
	for m, o := range outcomes {
		all[m] = o
	}
	done := true
	targets := cl.Chunk.Members
	if cl.Chunk.Robot {
		targets = []string{cl.Chunk.GroupID}
	}
	for _, m := range targets {
		if _, ok := all[m]; !ok {
			done = false
		}
	}
	ov, err := attributevalue.Marshal(all)
	if err != nil {
		return wrap("record chunk", err)
	}
	expr := "SET Outcomes = :o REMOVE ClaimUntil, ClaimToken"
	if done {
		expr = "SET Outcomes = :o, #Done = :done REMOVE ClaimUntil, ClaimToken"
	}
	vals := map[string]types.AttributeValue{":o": ov, ":tok": &types.AttributeValueMemberS{Value: cl.token}}
	if done {
		vals[":done"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	pk, sk := offerChunkKey(cl.Chunk.Code)
	upd := &types.Update{TableName: &s.table, Key: key(pk, sk), UpdateExpression: &expr,
		ConditionExpression: aws.String("ClaimToken = :tok"), ExpressionAttributeValues: vals}
	if done {
		upd.ExpressionAttributeNames = map[string]string{"#Done": "Done"}
	}
	items := []types.TransactWriteItem{{Update: upd}}
	if u := s.statsAdd(cl.Chunk, d); u != nil {
		items = append(items, types.TransactWriteItem{Update: u})
	}
	// The provider has accepted the recipients sent: an outcome not recorded sends to them again
	// once the claim expires. So every failure but a lost claim or a refused request is tried
	// again — a lost race, and throttling, 5xx or a timeout past the SDK's own retries — with
	// one request token for every try: DynamoDB applies a transaction once per token (for ten
	// minutes), so a try applied whose answer was lost and its retry record the outcomes and
	// add the stats once.
	token := ids.New()
	for attempt := 0; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items,
			ClientRequestToken: &token, ReturnConsumedCapacity: capacity})
		if err == nil {
			return nil
		}
		if reasons := cancelReasons(err); len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed" {
			// The claim expired and another sender holds it — or, where a request token is not
			// honoured, an earlier try was applied and released it; a retry then finds the
			// outcomes recorded.
			return ErrChunkBusy
		}
		if refused(err) || attempt >= raceAttempts {
			return wrap("record chunk", err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// refused reports whether DynamoDB refused a request for what it is (a malformed request, a
// missing table, another request's token): trying it again cannot help. Throttling and a
// cancelled transaction are the caller's fault too in DynamoDB's terms, but pass.
func refused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorFault() != smithy.FaultClient {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"TransactionCanceledException", "TransactionConflictException", "TransactionInProgressException":
		return false
	}
	return true
}

// ---- The offer page ----

// OfferChunkFrom reads the chunk an offer page token names, for the page, with the client's
// failed lookups in the same call: ErrTooManyGuesses past the limit, ErrNoChunk (counted as a
// failed guess) if there is none.
func (s *Store) OfferChunkFrom(ctx context.Context, code, client string, now time.Time) (OfferChunk, error) {
	pk, sk := offerChunkKey(code)
	var it chunkItem
	found, err := s.lookupGuarded(ctx, pk, sk, GuessOffer, client, now, &it)
	if err != nil {
		return OfferChunk{}, wrap("read offer", err)
	}
	if !found {
		return OfferChunk{}, ErrNoChunk
	}
	return it.chunk(), nil
}

// OfferChunk reads a chunk by its code (ErrNoChunk if none).
func (s *Store) OfferChunk(ctx context.Context, code string) (OfferChunk, error) {
	pk, sk := offerChunkKey(code)
	var it chunkItem
	if err := s.getItemConsistent(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return OfferChunk{}, ErrNoChunk
		}
		return OfferChunk{}, wrap("read offer", err)
	}
	return it.chunk(), nil
}

// OfferOf reads the campaign and the member of a chunk in one BatchGetItem: promo.ErrNotFound if
// either is gone.
func (s *Store) OfferOf(ctx context.Context, ch OfferChunk, memberID string) (promo.Campaign, Recipient, error) {
	cpk, csk := campaignKey(ch.StoreID, ch.CampaignID)
	mpk, msk := memberKey(ch.StoreID, memberID)
	items, err := s.batchGet(ctx, [][2]string{{cpk, csk}, {mpk, msk}})
	if err != nil {
		return promo.Campaign{}, Recipient{}, wrap("read offer", err)
	}
	var c *promo.Campaign
	var r *Recipient
	for _, raw := range items {
		var k struct{ PK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return promo.Campaign{}, Recipient{}, wrap("read offer", err)
		}
		if k.PK == cpk {
			var it campaignItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return promo.Campaign{}, Recipient{}, wrap("read offer", err)
			}
			cc := it.campaign()
			c = &cc
			continue
		}
		rr, err := s.recipientFrom(ctx, raw)
		if err != nil {
			return promo.Campaign{}, Recipient{}, wrap("read offer", err)
		}
		r = &rr
	}
	if c == nil || r == nil {
		return promo.Campaign{}, Recipient{}, promo.ErrNotFound
	}
	return *c, *r, nil
}

// OpenOffer counts the member's first open of the offer: on the chunk (once per member), in
// the campaign's stats and in the group's health, in one transaction. It reports whether this
// was the first open.
func (s *Store) OpenOffer(ctx context.Context, ch OfferChunk, memberID string) (bool, error) {
	if slices.Contains(ch.Opened, memberID) {
		return false, nil
	}
	pk, sk := offerChunkKey(ch.Code)
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key(pk, sk), UpdateExpression: aws.String("ADD Opened :m"),
			ConditionExpression: aws.String("NOT contains(Opened, :one)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":m": &types.AttributeValueMemberSS{Value: []string{memberID}}, ":one": &types.AttributeValueMemberS{Value: memberID}}}},
		{Update: s.statsAdd(ch, promo.Stats{Opened: 1})},
		{Update: s.groupCount(ch.StoreID, ch.GroupID, "PushOpens")},
	}
	return s.transactOnce(ctx, "count open", items)
}

// transactOnce writes items in one transaction whose first item's condition says "not done
// yet": false if it was done already. A conflict with another transaction (a campaign sending
// writes its stats shards often) is retried.
func (s *Store) transactOnce(ctx context.Context, op string, items []types.TransactWriteItem) (bool, error) {
	for attempt := 0; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: capacity})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			return true, nil
		case len(reasons) > 0 && reasons[0] == "ConditionalCheckFailed":
			return false, nil
		case !lostRace(err) || attempt >= raceAttempts:
			return false, wrap(op, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return false, err
		}
	}
}

// groupCount adds one to a counter of a group's health totals.
func (s *Store) groupCount(store, groupID, attr string) *types.Update {
	pk, sk := groupTotalsKey(store, groupID)
	return &types.Update{TableName: &s.table, Key: key(pk, sk), UpdateExpression: aws.String("ADD #c :one"),
		ExpressionAttributeNames:  map[string]string{"#c": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}
}

// Unsubscribe records that a member unsubscribed from pushes: the marketing consent withdrawn
// (with its record in the consent history) and the opt-out, in one transaction — and, when it
// came from an offer's link, counted in that campaign's stats and its group's health. A member
// already opted out is left as is (false).
func (s *Store) Unsubscribe(ctx context.Context, m member.Member, withdrawal member.Consent, from *OfferChunk, now time.Time) (bool, error) {
	now = now.UTC()
	c := consentAV{Granted: withdrawal.Granted, Version: withdrawal.Version, At: withdrawal.At}
	cv, err := attributevalue.Marshal(c)
	if err != nil {
		return false, wrap("unsubscribe", err)
	}
	nowV, err := attributevalue.Marshal(now)
	if err != nil {
		return false, wrap("unsubscribe", err)
	}
	pk, sk := memberKey(m.StoreID, m.ID)
	cpk, csk := consentKey(m.StoreID, m.ID, withdrawal.At.UTC().Format(time.RFC3339), string(withdrawal.Kind))
	rec, err := attributevalue.MarshalMap(map[string]any{"PK": cpk, "SK": csk, "T": typeConsent, "Kind": string(withdrawal.Kind),
		"Granted": withdrawal.Granted, "Version": withdrawal.Version, "At": withdrawal.At.UTC().Format(time.RFC3339), "Via": "unsubscribe"})
	if err != nil {
		return false, wrap("unsubscribe", err)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key(pk, sk),
			UpdateExpression:          aws.String("SET OptedOutAt = :now, Consents.#k = :c, UpdatedAt = :now"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(OptedOutAt)"),
			ExpressionAttributeNames:  map[string]string{"#k": string(withdrawal.Kind)},
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowV, ":c": cv}}},
		{Put: &types.Put{TableName: &s.table, Item: rec}},
	}
	if from != nil {
		items = append(items,
			types.TransactWriteItem{Update: s.statsAdd(*from, promo.Stats{Unsubscribed: 1})},
			types.TransactWriteItem{Update: s.groupCount(from.StoreID, from.GroupID, "PushOptOuts")})
	}
	return s.transactOnce(ctx, "unsubscribe", items)
}

// PushContext is what the sender needs to deliver a chunk: the campaign, the recipients still
// to hear from it (a member erased since is absent), and for a robot chunk the group.
type PushContext struct {
	Campaign   promo.Campaign
	Recipients map[string]Recipient
	Group      *group.Group // nil: deleted since
}

// LoadPush reads a chunk's campaign, the profiles of its pending recipients (≤ MaxChunk) and,
// for a robot chunk, its group, in one BatchGetItem.
func (s *Store) LoadPush(ctx context.Context, ch OfferChunk, pending []string) (PushContext, error) {
	cpk, csk := campaignKey(ch.StoreID, ch.CampaignID)
	keys := [][2]string{{cpk, csk}}
	gpk, gsk := groupKey(ch.StoreID, ch.GroupID)
	if ch.Robot {
		keys = append(keys, [2]string{gpk, gsk})
	}
	for _, id := range pending {
		pk, sk := memberKey(ch.StoreID, id)
		keys = append(keys, [2]string{pk, sk})
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return PushContext{}, wrap("load push", err)
	}
	out := PushContext{Recipients: map[string]Recipient{}}
	found := false
	for _, raw := range items {
		var k struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
			return PushContext{}, wrap("load push", err)
		}
		switch {
		case k.PK == cpk:
			var it campaignItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return PushContext{}, wrap("load push", err)
			}
			out.Campaign, found = it.campaign(), true
		case k.PK == gpk && k.SK == gsk:
			var it groupItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return PushContext{}, wrap("load push", err)
			}
			g := it.group()
			out.Group = &g
		default:
			r, err := s.recipientFrom(ctx, raw)
			if err != nil {
				return PushContext{}, wrap("load push", err)
			}
			out.Recipients[r.ID] = r
		}
	}
	if !found {
		return PushContext{}, promo.ErrNotFound
	}
	return out, nil
}
