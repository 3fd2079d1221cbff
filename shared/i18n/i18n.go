// Package i18n owns the languages Yinling speaks (zh-CN first, en complete) and the one message
// catalog per language that every page and every error message is drawn from.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Lang is a language we have a complete catalog for.
type Lang string

// The languages we speak. ZhCN is the default: our users are Chinese seniors.
const (
	ZhCN Lang = "zh-CN"
	En   Lang = "en"
)

// Langs lists every supported language, default first.
var Langs = []Lang{ZhCN, En}

//go:embed catalog/*.json
var catalogFS embed.FS

// Catalog maps message keys to text in one language.
type Catalog map[string]string

var catalogs = mustLoad()

func mustLoad() map[Lang]Catalog {
	out := make(map[Lang]Catalog, len(Langs))
	for _, l := range Langs {
		b, err := catalogFS.ReadFile("catalog/" + string(l) + ".json")
		if err != nil {
			panic(fmt.Sprintf("i18n: catalog %s: %v", l, err))
		}
		var c Catalog
		if err := json.Unmarshal(b, &c); err != nil {
			panic(fmt.Sprintf("i18n: catalog %s: %v", l, err))
		}
		out[l] = c
	}
	return out
}

// CatalogFor returns the catalog of l (the default language's for an unknown l).
func CatalogFor(l Lang) Catalog {
	if c, ok := catalogs[l]; ok {
		return c
	}
	return catalogs[ZhCN]
}

// T returns the text for key in l, falling back to zh-CN, then to the key itself so a missing
// entry is visible rather than blank (the catalog test keeps that from shipping).
func T(l Lang, key string) string {
	if s, ok := CatalogFor(l)[key]; ok {
		return s
	}
	if s, ok := catalogs[ZhCN][key]; ok {
		return s
	}
	return key
}

// Has reports whether key exists in every catalog.
func Has(key string) bool {
	for _, l := range Langs {
		if _, ok := catalogs[l][key]; !ok {
			return false
		}
	}
	return true
}

// FromAcceptLanguage picks the best supported language for an Accept-Language header value,
// honouring q-values; anything unrecognised gives zh-CN.
func FromAcceptLanguage(header string) Lang {
	best, bestQ := ZhCN, -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		l, ok := match(tag)
		if ok && q > bestQ && q > 0 {
			best, bestQ = l, q
		}
	}
	return best
}

func match(tag string) (Lang, bool) {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	switch primary {
	case "zh":
		return ZhCN, true
	case "en":
		return En, true
	}
	return "", false
}

// Fill replaces the {name} placeholders of a catalog text: Fill(t, "name", "王秀英", "time", "8:00").
func Fill(text string, kv ...string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		text = strings.ReplaceAll(text, "{"+kv[i]+"}", kv[i+1])
	}
	return text
}
