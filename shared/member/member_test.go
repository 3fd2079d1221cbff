package member

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"yinling/shared/i18n"
)

func ptr[T any](v T) *T { return &v }

func TestNewSignup(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 0, 0, 500, time.UTC)
	at := now.Truncate(time.Second)
	offered := []string{"太极拳", "书法"}
	valid := SignupDraft{
		Name: " 王秀英 ", Phone: "138 0013 8000", BirthYear: 1950, Gender: GenderFemale,
		Neighborhood: "阳光小区", Interests: []string{"书法"},
		Consents:       map[ConsentKind]bool{ConsentService: true, ConsentHealth: true},
		AcceptCovenant: true,
	}
	phone, _ := ParsePhone("13800138000")
	wantConsents := []Consent{
		{ConsentService, true, ConsentVersion, at},
		{ConsentHealth, true, ConsentVersion, at},
		{ConsentMarketing, false, ConsentVersion, at},
	}
	wantMember := Member{
		Name: "王秀英", Phone: phone, BirthYear: 1950, Gender: GenderFemale, Neighborhood: "阳光小区",
		Interests: []string{"书法"}, Channel: ChannelVoice, QuietHours: DefaultQuietHours,
		TimeZone: "Asia/Shanghai", Tier: TierMember, CreatedAt: at, UpdatedAt: at,
		Consents: Consents{ConsentService: wantConsents[0], ConsentHealth: wantConsents[1], ConsentMarketing: wantConsents[2]},
	}
	with := func(f func(*SignupDraft)) SignupDraft { d := valid; f(&d); return d }
	tests := []struct {
		name    string
		draft   SignupDraft
		wantErr error
	}{
		{"valid", valid, nil},
		{"emoji name", with(func(d *SignupDraft) { d.Name = "王秀英🌸" }), ErrInvalidName},
		{"200-character name", with(func(d *SignupDraft) { d.Name = strings.Repeat("王", 200) }), ErrNameTooLong},
		{"landline", with(func(d *SignupDraft) { d.Phone = "010 6552 9988" }), ErrInvalidPhone},
		{"no phone", with(func(d *SignupDraft) { d.Phone = "" }), ErrInvalidPhone},
		{"no birth year", with(func(d *SignupDraft) { d.BirthYear = 0 }), ErrInvalidBirthYear},
		{"bad gender", with(func(d *SignupDraft) { d.Gender = "x" }), ErrInvalidGender},
		{"long neighbourhood", with(func(d *SignupDraft) { d.Neighborhood = strings.Repeat("区", 41) }), ErrNeighborhoodTooLong},
		{"interest not offered", with(func(d *SignupDraft) { d.Interests = []string{"麻将"} }), ErrInvalidInterest},
		{"no service consent", with(func(d *SignupDraft) { d.Consents = map[ConsentKind]bool{ConsentHealth: true} }), ErrConsentRequired},
		{"no consents at all", with(func(d *SignupDraft) { d.Consents = nil }), ErrConsentRequired},
		{"covenant not accepted", with(func(d *SignupDraft) { d.AcceptCovenant = false }), ErrCovenantRequired},
		{"first error wins", SignupDraft{}, ErrNameRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, consents, err := NewSignup(tt.draft, offered, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewSignup() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if diff := cmp.Diff(Member{}, m, cmp.AllowUnexported(Phone{})); diff != "" || consents != nil {
					t.Errorf("NewSignup() returned data with an error: %s %v", diff, consents)
				}
				return
			}
			if diff := cmp.Diff(wantMember, m, cmp.AllowUnexported(Phone{})); diff != "" {
				t.Errorf("NewSignup() member (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantConsents, consents); diff != "" {
				t.Errorf("NewSignup() consents (-want +got):\n%s", diff)
			}
			if m.Verified() {
				t.Errorf("a new member is verified")
			}
			if got := m.AgeBand(now); got != Age70s {
				t.Errorf("AgeBand() = %q, want %q", got, Age70s)
			}
		})
	}
}

// errorCodes returns the Code of every &fail.Error{…} literal in the package's source, so a new
// sentinel cannot ship without a message.
func errorCodes(t *testing.T) (codes []string, imports []string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports = append(imports, p)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Error" {
				return true
			}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, _ := kv.Key.(*ast.Ident); k != nil && k.Name == "Code" {
					s, _ := kv.Value.(*ast.BasicLit)
					code, err := "", errors.New("not a literal")
					if s != nil {
						code, err = strconv.Unquote(s.Value)
					}
					if err != nil {
						t.Fatalf("%s: Code is not a string literal", fset.Position(kv.Pos()))
					}
					codes = append(codes, code)
				}
			}
			return true
		})
	}
	return codes, imports
}

func TestErrorsHaveMessages(t *testing.T) {
	codes, _ := errorCodes(t)
	if len(codes) < 25 {
		t.Fatalf("found only %d error codes: %v", len(codes), codes)
	}
	for _, c := range codes {
		if c != strings.ToLower(c) || strings.ContainsAny(c, " -") {
			t.Errorf("code %q is not snake_case", c)
		}
		if !i18n.Has("error." + c) {
			t.Errorf("error.%s has no message in every catalog", c)
		}
	}
}

// The package holds rules only: storage and AWS stay in the adapters.
func TestImportsNoAWS(t *testing.T) {
	_, imports := errorCodes(t)
	for _, p := range imports {
		if strings.Contains(p, "aws") || strings.Contains(p, "dynamostore") || strings.Contains(p, ".") && !strings.HasPrefix(p, "yinling/") {
			t.Errorf("imports %s", p)
		}
	}
}
