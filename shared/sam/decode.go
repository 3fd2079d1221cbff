package sam

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// shortForms maps CloudFormation's YAML short-form tags to their long names.
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Not":          "Fn::Not",
	"!Condition":    "Condition",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// decode turns a YAML node into plain Go values: map[string]any, []any, string, int, float64,
// bool, nil — and Value wherever the node is an intrinsic function, short or long form.
func decode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decode(n.Content[0])
	case yaml.AliasNode:
		return decode(n.Alias)
	}
	if fn, ok := shortForms[n.Tag]; ok {
		// The short form's argument is the node itself without its tag.
		arg := *n
		arg.Tag = ""
		arg.Style &^= yaml.TaggedStyle
		switch arg.Kind {
		case yaml.ScalarNode:
			arg.Tag = "!!str"
		case yaml.SequenceNode:
			arg.Tag = "!!seq"
		case yaml.MappingNode:
			arg.Tag = "!!map"
		}
		v, err := decode(&arg)
		if err != nil {
			return nil, err
		}
		return intrinsic(fn, v, n.Line)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!timestamp" {
			// CloudFormation has no dates: "2010-09-09" is text.
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			dv, err := decode(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = dv
		}
		// The long form: a one-key mapping {Ref: X} or {Fn::…: args}.
		if len(out) == 1 {
			for k, v := range out {
				if k == "Ref" || k == "Condition" && isScalar(v) || strings.HasPrefix(k, "Fn::") {
					return intrinsic(k, v, n.Line)
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// intrinsic builds the Value of function fn applied to its decoded argument.
func intrinsic(fn string, arg any, line int) (Value, error) {
	bad := func(want string) (Value, error) {
		return Value{}, fmt.Errorf("line %d: %s wants %s, got %v", line, fn, want, arg)
	}
	switch fn {
	case "Ref":
		s, ok := arg.(string)
		if !ok || s == "" {
			return bad("a name")
		}
		return Value{Kind: Ref, Name: s}, nil
	case "Fn::GetAtt":
		switch a := arg.(type) {
		case string: // LogicalID.Attr; attributes may contain dots (Endpoint.Address)
			id, attr, ok := strings.Cut(a, ".")
			if !ok || id == "" || attr == "" {
				return bad("LogicalID.Attribute")
			}
			return Value{Kind: GetAtt, Name: id, Attr: attr}, nil
		case []any:
			if len(a) != 2 {
				return bad("[LogicalID, Attribute]")
			}
			id, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			if !ok1 || !ok2 {
				return bad("[LogicalID, Attribute]")
			}
			return Value{Kind: GetAtt, Name: id, Attr: attr}, nil
		}
		return bad("LogicalID.Attribute")
	case "Fn::Sub":
		switch a := arg.(type) {
		case string:
			return Value{Kind: Sub, Template: a}, nil
		case []any:
			if len(a) != 2 {
				return bad("[text, {variables}]")
			}
			s, ok1 := a[0].(string)
			vars, ok2 := a[1].(map[string]any)
			if !ok1 || !ok2 {
				return bad("[text, {variables}]")
			}
			return Value{Kind: Sub, Template: s, Vars: vars}, nil
		}
		return bad("text")
	}
	return Value{Kind: Func, Name: fn, Args: arg}, nil
}
