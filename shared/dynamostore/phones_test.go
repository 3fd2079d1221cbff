package dynamostore

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"yinling/shared/awscalls"
	"yinling/shared/member"
	"yinling/shared/pii"
	"yinling/shared/testenv"
)

// kmsLike is a Wrapper that is not the local one — so stores share its data key through the
// table, as with KMS in AWS — and counts its calls.
type kmsLike struct {
	w                  pii.Wrapper
	generates, decrypt atomic.Int64
}

func (k *kmsLike) GenerateDataKey(ctx context.Context) ([]byte, []byte, error) {
	k.generates.Add(1)
	return k.w.GenerateDataKey(ctx)
}

func (k *kmsLike) Decrypt(ctx context.Context, wrapped []byte) ([]byte, error) {
	k.decrypt.Add(1)
	return k.w.Decrypt(ctx, wrapped)
}

// Outside the local stack, the processes of a deployment seal with one data key shared through
// the table: the first writer draws it (one GenerateDataKey, one conditional PutItem), every
// later writer reads it (one GetItem, one Decrypt), and a reader meets that one key.
func TestSharedDataKeyThroughTheTable(t *testing.T) {
	var calls awscalls.Counter
	env := testenv.New(t, testenv.WithAPIOptions(calls.Register))
	ctx := context.Background()
	local, err := pii.Local(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k := &kmsLike{w: local}
	phone, _ := member.ParsePhone("13800138000")
	owner := memberPhoneOwner("s1", "m1")

	var sealed []string
	for i := range 3 { // three cold starts
		s := New(env.DynamoDB, env.TableName(), WithPII(k))
		before := calls.Snapshot()
		v, err := s.sealPhone(ctx, phone, owner)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.sealPhone(ctx, phone, owner); err != nil { // a second seal costs nothing
			t.Fatal(err)
		}
		used := calls.Snapshot().Sub(before)
		want := map[string]int{"DynamoDB.GetItem": 1}
		if i == 0 {
			want["DynamoDB.PutItem"] = 1
		}
		if got := used.Count; !equalCounts(got, want) {
			t.Errorf("cold start %d: calls %v, want %v", i, got, want)
		}
		sealed = append(sealed, v)
	}
	if g, d := k.generates.Load(), k.decrypt.Load(); g != 1 || d != 2 {
		t.Errorf("3 writers: %d GenerateDataKey, %d Decrypt; want 1, 2", g, d)
	}
	wrappedOf := func(v string) string { return strings.Split(v, ".")[1] }
	for _, v := range sealed[1:] {
		if wrappedOf(v) != wrappedOf(sealed[0]) {
			t.Error("writers seal with different data keys")
		}
	}

	// The key item holds only the wrapped key.
	pk, sk := piiDataKeyKey()
	var it dataKeyItem
	if err := New(env.DynamoDB, env.TableName()).getItem(ctx, pk, sk, &it); err != nil {
		t.Fatal(err)
	}
	if len(it.Wrapped) == 0 || it.T != typePIIDataKey {
		t.Errorf("data key item = %+v", it)
	}
	plain, err := local.Decrypt(ctx, it.Wrapped)
	if err != nil || bytes.Contains(it.Wrapped, plain) {
		t.Errorf("the stored data key is not wrapped (%v)", err)
	}

	k.decrypt.Store(0)
	reader := New(env.DynamoDB, env.TableName(), WithPII(k))
	before := calls.Snapshot()
	for _, v := range sealed {
		got, err := reader.openText(ctx, v, owner)
		if err != nil || got != "+8613800138000" {
			t.Errorf("open = %q, %v", got, err)
		}
	}
	if d := k.decrypt.Load(); d != 1 {
		t.Errorf("reader: %d Decrypt, want 1", d)
	}
	if n := calls.Snapshot().Sub(before).Total(); n != 0 {
		t.Errorf("opening made %d AWS calls, want 0", n)
	}
}

func equalCounts(got, want map[string]int) bool {
	n := 0
	for k, v := range got {
		if v != 0 {
			n++
			if want[k] != v {
				return false
			}
		}
	}
	return n == len(want)
}

// A profile written before phones were sealed (plain E.164) still reads; a new signup's is
// sealed, and opens only as its own member's.
func TestMemberPhoneAtRest(t *testing.T) {
	env := testenv.New(t)
	s := New(env.DynamoDB, env.TableName())
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

	phone, _ := member.ParsePhone("13800138000")
	old := toMemberItem(member.Member{ID: "m-old", StoreID: "s1", Name: "老会员", Channel: member.ChannelSMS, CreatedAt: now, UpdatedAt: now}, "h-old")
	old.Phone = "+8613800138000" // as written before sealing
	if err := s.putNew(ctx, old); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.MemberHome(ctx, "s1", "m-old")
	if err != nil || m.Phone != phone {
		t.Errorf("legacy profile: phone %v, %v", m.Phone, err)
	}

	fresh, err := s.memberItem(ctx, member.Member{ID: "m-new", StoreID: "s1", Name: "新会员", Phone: phone, Channel: member.ChannelSMS,
		CreatedAt: now, UpdatedAt: now}, "h-new")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fresh.Phone, "v1.") || strings.Contains(fresh.Phone, "13800138000") {
		t.Fatalf("new profile stores phone %q", fresh.Phone)
	}
	if err := s.putNew(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if m, _, err := s.MemberHome(ctx, "s1", "m-new"); err != nil || m.Phone != phone {
		t.Errorf("sealed profile: phone %v, %v", m.Phone, err)
	}
	// The sealed phone moved onto another member's profile does not open there.
	moved := fresh
	moved.PK, moved.SK = memberKey("s1", "m-thief")
	moved.ID = "m-thief"
	if err := s.putNew(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if m, _, err := s.MemberHome(ctx, "s1", "m-thief"); err == nil {
		t.Errorf("a phone moved to another profile opened as %v", m.Phone)
	}
}
