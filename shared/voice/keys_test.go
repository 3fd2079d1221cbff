package voice

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The keys are a persistent data contract: reminders store clip keys, and the speech cache
// finds its audio again only if the hash input never changes.
func TestKeys(t *testing.T) {
	const id = "01KAQ6V4Y3ZJ8W2B5N7M9P0R1S"
	tests := []struct{ name, got, want string }{
		{"upload", uploadKey("s1", id, "webm"), "uploads/s1/" + id + ".webm"},
		{"claimed", claimedKey("s1", id, "m4a"), "clips/s1/" + id + ".m4a"},
		{"polly", speechKey("polly:neural", "Zhiyu", "cmn-CN", "该吃药了", "mp3"),
			"tts/90017488a6e66c687c9fdbcaa6a7e78f90507508217dca9a2a6a459ecf2b30a3.mp3"},
		{"espeak", speechKey("espeak-ng:s140", "en-us", "en", "Time for your pills", "wav"),
			"tts/4f19308e9c82ec6cc85a9f7b6344bc689e5a1bcb62addbc835c86c44e1680dc8.wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestParseClipKey(t *testing.T) {
	const id = "01KAQ6V4Y3ZJ8W2B5N7M9P0R1S"
	type parts struct {
		Prefix, ID, Ext string
		OK              bool
	}
	tests := []struct {
		name, store, key string
		want             parts
	}{
		{"upload", "s1", "uploads/s1/" + id + ".webm", parts{"uploads/", id, "webm", true}},
		{"claimed", "s1", "clips/s1/" + id + ".ogg", parts{"clips/", id, "ogg", true}},
		{"other store", "s2", "uploads/s1/" + id + ".webm", parts{}},
		{"store is a prefix of another", "s", "uploads/s1/" + id + ".webm", parts{}},
		{"nested path", "s1", "uploads/s1/x/" + id + ".webm", parts{}},
		{"dot dot", "s1", "uploads/s1/../s2/" + id + ".webm", parts{}},
		{"not a ulid", "s1", "uploads/s1/hello.webm", parts{}},
		{"unknown extension", "s1", "uploads/s1/" + id + ".exe", parts{}},
		{"double extension", "s1", "uploads/s1/" + id + ".webm.exe", parts{}},
		{"no extension", "s1", "uploads/s1/" + id, parts{}},
		{"speech key", "s1", "tts/" + id + ".mp3", parts{}},
		{"empty store", "", "uploads//" + id + ".webm", parts{}},
		{"store with slash", "s1/x", "uploads/s1/x/" + id + ".webm", parts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got parts
			got.Prefix, got.ID, got.Ext, got.OK = parseClipKey(tt.store, tt.key)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseClipKey(%q, %q) (-want +got):\n%s", tt.store, tt.key, diff)
			}
		})
	}
}
