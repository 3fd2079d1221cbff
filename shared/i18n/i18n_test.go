package i18n

import (
	"bytes"
	"encoding/json"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Every key must exist, non-empty, in every language: a missing translation fails here, not in
// front of a senior.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	keys := func(c Catalog) []string {
		var ks []string
		for k, v := range c {
			if v == "" {
				t.Errorf("empty text for %q", k)
			}
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	want := keys(catalogs[ZhCN])
	for _, l := range Langs[1:] {
		if diff := cmp.Diff(want, keys(catalogs[l])); diff != "" {
			t.Errorf("catalog %s keys differ from zh-CN (-zh-CN +%s):\n%s", l, l, diff)
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"", ZhCN},
		{"en", En},
		{"en-US,en;q=0.9", En},
		{"zh-CN,zh;q=0.9,en;q=0.8", ZhCN},
		{"fr-FR, en;q=0.5", En},
		{"fr", ZhCN},
		{"en;q=0.3, zh-TW;q=0.8", ZhCN},
		{"en;q=0", ZhCN},
		{"*", ZhCN},
	}
	for _, tt := range tests {
		if got := FromAcceptLanguage(tt.header); got != tt.want {
			t.Errorf("FromAcceptLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestTFallsBack(t *testing.T) {
	if got := T(En, "error.not_found"); got == "error.not_found" {
		t.Fatalf("T(en, error.not_found) returned the key")
	}
	if got := T(En, "no.such.key"); got != "no.such.key" {
		t.Fatalf("T(en, no.such.key) = %q, want the key back", got)
	}
}

// A key written twice in a catalog is silently the last one to encoding/json: refuse it, so an
// edit never lands on a copy nobody reads.
func TestCatalogsHaveNoDuplicateKeys(t *testing.T) {
	for _, l := range Langs {
		b, err := catalogFS.ReadFile("catalog/" + string(l) + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		seen := map[string]bool{}
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			if seen[k.(string)] {
				t.Errorf("%s: key %q appears twice", l, k)
			}
			seen[k.(string)] = true
			var v string
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %q: %v", l, k, err)
			}
		}
	}
}
