package ids

import "testing"

func TestNewIsValidAndSorted(t *testing.T) {
	prev := ""
	for i := 0; i < 1000; i++ {
		id := New()
		if !Valid(id) {
			t.Fatalf("New() = %q is not Valid", id)
		}
		if id <= prev {
			t.Fatalf("New() = %q not after %q", id, prev)
		}
		prev = id
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"01JDQ7Z6W3V8G0X5Y4K2M9N1PA":  true,
		"":                            false,
		"01JDQ7Z6W3V8G0X5Y4K2M9N1P":   false,
		"01JDQ7Z6W3V8G0X5Y4K2M9N1PA#": false,
		"01JDQ7Z6W3V8G0X5Y4K2M9N1P#":  false,
		"ZZZZZZZZZZZZZZZZZZZZZZZZZZ":  false, // overflows 128 bits
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c := NewCode()
		if !ValidCode(c) {
			t.Fatalf("NewCode() = %q is not ValidCode", c)
		}
		if seen[c] {
			t.Fatalf("NewCode() repeated %q", c)
		}
		seen[c] = true
	}
	for in, want := range map[string]string{
		"abcd-efgh": "ABCDEFGH",
		"ab cd ef":  "ABCDEF",
		"XYZ":       "XYZ",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	for s, want := range map[string]bool{"ABCDEFGH": true, "ABCDEFG0": false, "ABCDEFGI": false, "ABC": false, "abcdefgh": false} {
		if got := ValidCode(s); got != want {
			t.Errorf("ValidCode(%q) = %v, want %v", s, got, want)
		}
	}
}

// A derived id is a valid ULID, the same for the same parts and different for others — also
// when the parts differ only in where one ends and the next begins.
func TestDerived(t *testing.T) {
	a := Derived("s1", "session", "key-1")
	if !Valid(a) || a != Derived("s1", "session", "key-1") {
		t.Fatalf("Derived = %q: not valid or not stable", a)
	}
	for _, other := range [][]string{{"s1", "session", "key-2"}, {"s1", "sessionkey-1"}, {"s1s", "ession", "key-1"}} {
		if Derived(other...) == a {
			t.Errorf("Derived(%q) = Derived of other parts", other)
		}
	}
}
