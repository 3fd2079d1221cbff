package member

import "testing"

// BenchmarkParsePhone is what every signup, profile change and family alert pays to read a
// number, per form people write it in (the forms of TestParsePhone).
func BenchmarkParsePhone(b *testing.B) {
	inputs := []struct{ name, in string }{
		{"form=plain", "13800138000"},
		{"form=spaced", "138 0013 8000"},
		{"form=plus86", "+86 138-0013-8000"},
		{"form=fullwidth", "１３８００１３８０００"},
		{"form=foreign", "+44 20 7946 0958"},
		{"form=invalid", "010-12345678"},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			_, wantErr := ParsePhone(in.in)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParsePhone(in.in); (err != nil) != (wantErr != nil) {
					b.Fatalf("ParsePhone(%q) = %v, first %v", in.in, err, wantErr)
				}
			}
		})
	}
}

// BenchmarkPhoneMasked is the cost of a phone number in a log line: every one is masked.
func BenchmarkPhoneMasked(b *testing.B) {
	p, err := ParsePhone("13800138000")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p.Masked() == "" {
			b.Fatal("empty mask")
		}
	}
}
