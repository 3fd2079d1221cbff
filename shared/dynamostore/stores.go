package dynamostore

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"time"

	"yinling/shared/fail"
	"yinling/shared/qa"
	"yinling/shared/tenant"
)

type storeItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	T         string    `dynamodbav:"T"`
	ID        string    `dynamodbav:"ID"`
	ChainID   string    `dynamodbav:"ChainID,omitempty"`
	Name      string    `dynamodbav:"Name"`
	TimeZone  string    `dynamodbav:"TimeZone"`
	PushCap   int       `dynamodbav:"PushCap"`
	PaidQuota int       `dynamodbav:"PaidQuota,omitempty"`
	Interests []string  `dynamodbav:"Interests,omitempty"`
	CreatedAt time.Time `dynamodbav:"CreatedAt"`
}

// store is the store profile; a store made before it had a paid quota has the default.
func (it storeItem) store() tenant.Store {
	return tenant.Store{ID: it.ID, ChainID: it.ChainID, Name: it.Name, TimeZone: it.TimeZone,
		PushCap: it.PushCap, PaidQuota: cmp.Or(it.PaidQuota, tenant.DefaultPaidQuota), Interests: it.Interests,
		CreatedAt: it.CreatedAt}
}

type staffItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	T       string `dynamodbav:"T"`
	ID      string `dynamodbav:"ID"`
	StoreID string `dynamodbav:"StoreID"`
	Role    string `dynamodbav:"Role"`
	Name    string `dynamodbav:"Name"`
}

type doctorItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	T          string    `dynamodbav:"T"`
	ID         string    `dynamodbav:"ID"`
	StoreID    string    `dynamodbav:"StoreID"`
	Name       string    `dynamodbav:"Name"`
	Title      string    `dynamodbav:"Title"`
	Speciality string    `dynamodbav:"Speciality"`
	Bio        string    `dynamodbav:"Bio"`
	PhotoURL   string    `dynamodbav:"PhotoURL,omitempty"`
	CreatedAt  time.Time `dynamodbav:"CreatedAt"`
}

// CreateStore stores a new store; ErrExists if its id is taken.
func (s *Store) CreateStore(ctx context.Context, st tenant.Store) error {
	pk, sk := storeKey(st.ID)
	return wrap("create store "+st.ID, s.putNew(ctx, storeItem{
		PK: pk, SK: sk, T: typeStore, ID: st.ID, ChainID: st.ChainID, Name: st.Name,
		TimeZone: st.TimeZone, PushCap: st.PushCap, PaidQuota: st.PaidQuota, Interests: st.Interests, CreatedAt: st.CreatedAt,
	}))
}

// GetStore returns a store's profile, or fail.ErrNotFound.
func (s *Store) GetStore(ctx context.Context, id string) (tenant.Store, error) {
	pk, sk := storeKey(id)
	var it storeItem
	if err := s.getItem(ctx, pk, sk, &it); err != nil {
		return tenant.Store{}, wrap("get store "+id, err)
	}
	return it.store(), nil
}

// CreateStaff records a staff member of a store (the identity itself lives in Cognito); ErrExists
// if already recorded.
func (s *Store) CreateStaff(ctx context.Context, st tenant.Staff) error {
	pk, sk := staffKey(st.StoreID, st.ID)
	return wrap("create staff "+st.ID, s.putNew(ctx, staffItem{
		PK: pk, SK: sk, T: typeStaff, ID: st.ID, StoreID: st.StoreID, Role: string(st.Role), Name: st.Name,
	}))
}

// CreateDoctor stores a doctor of a store; ErrExists if the id is taken.
func (s *Store) CreateDoctor(ctx context.Context, d qa.Doctor) error {
	pk, sk := doctorKey(d.StoreID, d.ID)
	return wrap("create doctor "+d.ID, s.putNew(ctx, doctorItem{
		PK: pk, SK: sk, T: typeDoctor, ID: d.ID, StoreID: d.StoreID, Name: d.Name, Title: d.Title,
		Speciality: d.Speciality, Bio: d.Bio, PhotoURL: d.PhotoURL, CreatedAt: d.CreatedAt,
	}))
}

// GetDoctor returns one doctor of store, or qa.ErrDoctorNotFound.
func (s *Store) GetDoctor(ctx context.Context, store, id string) (qa.Doctor, error) {
	pk, sk := doctorKey(store, id)
	var it doctorItem
	if err := s.getItem(ctx, pk, sk, &it); err != nil {
		if errors.Is(err, fail.ErrNotFound) {
			return qa.Doctor{}, qa.ErrDoctorNotFound
		}
		return qa.Doctor{}, wrap("get doctor "+id, err)
	}
	return it.doctor(), nil
}

func (it doctorItem) doctor() qa.Doctor {
	return qa.Doctor{ID: it.ID, StoreID: it.StoreID, Name: it.Name, Title: it.Title,
		Speciality: it.Speciality, Bio: it.Bio, PhotoURL: it.PhotoURL, CreatedAt: it.CreatedAt}
}

func itoa(n int) string { return strconv.Itoa(n) }
