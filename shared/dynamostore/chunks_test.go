package dynamostore

import (
	"slices"
	"testing"
	"time"

	"yinling/shared/promo"
	"yinling/shared/testenv"
)

// Against DynamoDB Local: Chunks reads what was written, leaves out codes never written, and
// reads a code given twice once (BatchGetItem refuses a list with a key twice).
func TestChunksReadsEachCodeOnce(t *testing.T) {
	env := testenv.New(t)
	st := New(env.DynamoDB, env.TableName())
	ctx := t.Context()
	now := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	key := []byte("k")
	var codes []string
	for n := range 3 {
		code := promo.ChunkCode(key, "s1", "C1", 0, 0, n)
		codes = append(codes, code)
		ch := OfferChunk{Code: code, StoreID: "s1", CampaignID: "C1", GroupID: "g1", ExpiresAt: now.Add(time.Hour)}
		if err := st.WriteChunk(ctx, ChunkWrite{Chunk: ch, Kind: promo.KindPromotion, At: now}); err != nil {
			t.Fatalf("WriteChunk %d: %v", n, err)
		}
	}
	unwritten := promo.ChunkCode(key, "s1", "C1", 0, 0, 3)
	got, err := st.Chunks(ctx, []string{codes[2], codes[0], codes[2], unwritten, codes[1], codes[0]})
	if err != nil {
		t.Fatalf("Chunks: %v", err)
	}
	var read []string
	for code, ch := range got {
		if ch.Code != code || ch.CampaignID != "C1" {
			t.Errorf("chunk %s read as %+v", code, ch)
		}
		read = append(read, code)
	}
	if slices.Sort(read); !slices.Equal(read, slices.Sorted(slices.Values(codes))) {
		t.Errorf("Chunks read %v, want the three written %v", read, codes)
	}
}
