package field

import (
	"errors"
	"strings"
	"testing"

	"yinling/shared/fail"
)

func TestFields(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  func() (string, error)
		want string
		err  error
	}{
		{"trimmed", func() (string, error) { return Line("  张医生 ", 5, "name", true) }, "张医生", nil},
		{"runes, not bytes", func() (string, error) { return Line("高血压讲座", 5, "title", true) }, "高血压讲座", nil},
		{"too long", func() (string, error) { return Line("高血压讲座啊", 5, "title", true) }, "", fail.InvalidField("too_long", "title")},
		{"required", func() (string, error) { return Line(" ", 5, "title", true) }, "", fail.InvalidField("required", "title")},
		{"optional", func() (string, error) { return Line("", 5, "notes", false) }, "", nil},
		{"control character", func() (string, error) { return Line("a\x07b", 5, "title", false) }, "", fail.InvalidField("invalid_text", "title")},
		{"a line break in a line", func() (string, error) { return Line("a\nb", 5, "title", false) }, "", fail.InvalidField("invalid_text", "title")},
		{"a line break in text", func() (string, error) { return Text("a\r\nb", 5, "notes", false) }, "a\nb", nil},
		{"invalid UTF-8", func() (string, error) { return Text("a\xffb", 5, "notes", false) }, "", fail.InvalidField("invalid_text", "notes")},
		{"https", func() (string, error) { return HTTPS(" https://x.cn/a.jpg ", "photoUrl") }, "https://x.cn/a.jpg", nil},
		{"no link", func() (string, error) { return HTTPS("", "photoUrl") }, "", nil},
		{"http", func() (string, error) { return HTTPS("http://x.cn", "photoUrl") }, "", fail.InvalidField("invalid_url", "photoUrl")},
		{"a space", func() (string, error) { return HTTPS("https://x.cn/a b", "photoUrl") }, "", fail.InvalidField("invalid_url", "photoUrl")},
		{"too long a link", func() (string, error) { return HTTPS("https://x.cn/"+strings.Repeat("a", MaxURLLen), "u") }, "", fail.InvalidField("invalid_url", "u")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if got != tt.want || tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("= %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if fe, ok := fail.As(err); ok && tt.err != nil && fe.Field != tt.err.(*fail.Error).Field {
				t.Errorf("field %q, want %q", fe.Field, tt.err.(*fail.Error).Field)
			}
		})
	}
}
