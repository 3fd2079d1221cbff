package apispec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// decodeYAML returns the document as the JSON values the schema compiler expects: objects as
// map[string]any, numbers as json.Number. YAML is wider than JSON, so mapping keys that YAML
// reads as numbers or booleans (responses: 200:) become their text, timestamps become RFC 3339
// strings, and anything JSON cannot hold (a NaN, a mapping as a key) is an error.
func decodeYAML(src []byte) (map[string]any, error) {
	var raw any
	if err := yaml.Unmarshal(src, &raw); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	conv, err := jsonCompatible(raw, "")
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	// A round trip through encoding/json gives exactly what jsonschema.UnmarshalJSON gives for a
	// JSON file: the compiler sees the document as a client generator would.
	b, err := json.Marshal(conv)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parse openapi.yaml: the document is not a mapping")
	}
	return obj, nil
}

func jsonCompatible(v any, at string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := jsonCompatible(e, at+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			ks, err := keyString(k)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			if _, dup := out[ks]; dup {
				return nil, fmt.Errorf("%s: key %q twice", at, ks)
			}
			c, err := jsonCompatible(e, at+"/"+escape(ks))
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := jsonCompatible(e, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case nil, string, bool, int, int64, uint64, float64:
		return v, nil
	}
	return nil, fmt.Errorf("%s: %T is not a JSON value", at, v)
}

// keyString is the text of a scalar mapping key; YAML reads `200:` as the integer 200.
func keyString(k any) (string, error) {
	switch k := k.(type) {
	case string:
		return k, nil
	case int:
		return strconv.Itoa(k), nil
	case int64:
		return strconv.FormatInt(k, 10), nil
	case uint64:
		return strconv.FormatUint(k, 10), nil
	case bool:
		return strconv.FormatBool(k), nil
	}
	return "", fmt.Errorf("mapping key %v (%T): want a string", k, k)
}
