package sqsmsg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeDecode(t *testing.T) {
	type delivery struct {
		Reminder string `json:"reminder"`
		Attempt  int    `json:"attempt"`
	}
	tests := []struct {
		name string
		typ  string
		body any
		want string
	}{
		{"struct", "delivery", delivery{"R1", 2}, `{"type":"delivery","v":1,"body":{"reminder":"R1","attempt":2}}`},
		{"nil body", "ping", nil, `{"type":"ping","v":1,"body":null}`},
		{"string body", "note", "你好", `{"type":"note","v":1,"body":"你好"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Encode(tt.typ, tt.body)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if diff := cmp.Diff(tt.want, raw); diff != "" {
				t.Errorf("Encode mismatch (-want +got):\n%s", diff)
			}
			env, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if env.Type != tt.typ || env.V != Version {
				t.Errorf("Decode = %+v, want type %q v %d", env, tt.typ, Version)
			}
		})
	}
}

func TestEnvelopeUnmarshal(t *testing.T) {
	raw, err := Encode("delivery", map[string]int{"attempt": 3})
	if err != nil {
		t.Fatal(err)
	}
	env, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := env.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"attempt": 3}, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if err := (Envelope{Type: "x"}).Unmarshal(&got); err == nil {
		t.Error("Unmarshal of an empty body: want error")
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		body    any
		wantErr string
	}{
		{"empty type", "", 1, "empty type"},
		{"unmarshalable body", "x", make(chan int), "unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.typ, tt.body)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Encode error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    Envelope
		wantErr string
	}{
		{"valid", `{"type":"a","v":1,"body":{"x":1}}`, Envelope{Type: "a", V: 1, Body: json.RawMessage(`{"x":1}`)}, ""},
		{"newer version is the caller's call", `{"type":"a","v":2,"body":[]}`, Envelope{Type: "a", V: 2, Body: json.RawMessage(`[]`)}, ""},
		{"unknown fields ignored", `{"type":"a","v":1,"body":1,"extra":true}`, Envelope{Type: "a", V: 1, Body: json.RawMessage(`1`)}, ""},
		{"empty", ``, Envelope{}, "decode message"},
		{"not json", `hello`, Envelope{}, "decode message"},
		{"array", `[1,2]`, Envelope{}, "decode message"},
		{"trailing data", `{"type":"a","v":1}{}`, Envelope{}, "decode message"},
		{"null", `null`, Envelope{}, "missing type"},
		{"missing type", `{"v":1,"body":{}}`, Envelope{}, "missing type"},
		{"empty type", `{"type":"","v":1,"body":{}}`, Envelope{}, "missing type"},
		{"missing version", `{"type":"a","body":{}}`, Envelope{}, "invalid version 0"},
		{"wrong type for v", `{"type":"a","v":"1"}`, Envelope{}, "decode message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
