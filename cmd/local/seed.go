package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"yinling/shared/dynamostore"
	"yinling/shared/group"
	"yinling/shared/ids"
	"yinling/shared/qa"
	"yinling/shared/staffjwt"
	"yinling/shared/tenant"
)

// The demo store a newcomer sees on first start.
const (
	demoStoreID = "demo"
	demoStaffID = "staff-demo"
)

type demoStore struct {
	joinCode string
}

// seedDemo creates, on first start only, a store with one staff member, one group and one
// doctor. Later starts find the store and leave everything as the developer left it.
func seedDemo(ctx context.Context, st *dynamostore.Store, now time.Time) (demoStore, error) {
	now = now.UTC().Truncate(time.Second)
	err := st.CreateStore(ctx, tenant.Store{
		ID: demoStoreID, Name: "幸福里社区药房", TimeZone: tenant.DefaultTimeZone, PushCap: tenant.DefaultPushCap,
		Interests: []string{"健康讲座", "太极拳", "广场舞", "书法", "棋牌", "养生", "旅游"}, CreatedAt: now,
	})
	if errors.Is(err, dynamostore.ErrExists) {
		page, err := st.ListGroups(ctx, demoStoreID, "", 1)
		if err != nil || len(page.Items) == 0 {
			return demoStore{}, err
		}
		return demoStore{joinCode: page.Items[0].JoinCode}, nil
	}
	if err != nil {
		return demoStore{}, err
	}
	if err := st.CreateStaff(ctx, tenant.Staff{ID: demoStaffID, StoreID: demoStoreID, Role: tenant.RoleManager, Name: "王店长"}); err != nil {
		return demoStore{}, err
	}
	g, err := group.New(group.Draft{
		Name:      "幸福里邻里健康群",
		Covenant:  "1. 互相尊重，友善交流。\n2. 不发与健康无关的广告。\n3. 用药问题以医生意见为准。",
		EntryRule: group.RuleOpen,
	}, tenant.DefaultPushCap)
	if err != nil {
		return demoStore{}, err
	}
	g.ID, g.StoreID, g.JoinCode, g.CreatedBy, g.CreatedAt, g.UpdatedAt = ids.New(), demoStoreID, ids.NewCode(), demoStaffID, now, now
	if _, err := st.CreateGroup(ctx, g, dynamostore.Idempotency{}); err != nil {
		return demoStore{}, err
	}
	if err := st.CreateDoctor(ctx, qa.Doctor{
		ID: ids.New(), StoreID: demoStoreID, Name: "李建国", Title: "主任医师", Speciality: "心血管内科",
		Bio: "从医三十年，擅长高血压、冠心病的长期管理。", CreatedAt: now,
	}); err != nil {
		return demoStore{}, err
	}
	return demoStore{joinCode: g.JoinCode}, nil
}

// localIssuer is the local stand-in for Cognito: a key kept in .local (created on first use)
// that mints tokens the local gateway's authorizer verifies.
func localIssuer(root string) (*staffjwt.Issuer, error) {
	dir := filepath.Join(root, ".local")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	key, err := staffjwt.LoadOrCreateKey(filepath.Join(dir, "staff-jwt.pem"))
	if err != nil {
		return nil, fmt.Errorf("staff token key: %w", err)
	}
	return newLocalIssuer(key), nil
}

func newLocalIssuer(key *rsa.PrivateKey) *staffjwt.Issuer {
	return staffjwt.NewIssuer(key, "", localIssuerURL, localAudience)
}

// mintStaffToken mints an ID-token-shaped JWT with the claims Cognito would carry.
func mintStaffToken(iss *staffjwt.Issuer, store, role string, ttl time.Duration) (string, error) {
	return iss.Mint(map[string]string{
		tenant.ClaimSubject: demoStaffID,
		tenant.ClaimStoreID: store,
		tenant.ClaimRole:    role,
		tenant.ClaimName:    "王店长",
	}, ttl)
}
