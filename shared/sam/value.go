package sam

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what a Value holds.
type Kind int

const (
	// Literal is a plain scalar: "600", "info", "".
	Literal Kind = iota
	// Ref is `!Ref Name`: a logical id, a parameter or a pseudo parameter (AWS::Region).
	Ref
	// GetAtt is `!GetAtt LogicalID.Attr`.
	GetAtt
	// Sub is `!Sub "text ${X} ${X.Attr} ${AWS::Region}"`, optionally with its own variables.
	Sub
	// Func is any other intrinsic function (Fn::Join, Fn::If, Fn::Select, …), kept with its
	// decoded arguments. Resolve knows Fn::Join and Fn::Select; the rest are reported.
	Func
)

// Value is one leaf of a template that CloudFormation computes at deploy time: a literal or an
// intrinsic function call. Decoded properties hold a Value wherever the template has an
// intrinsic (short `!Ref X` or long `Ref: X` form).
type Value struct {
	Kind Kind
	// Lit is the text of a Literal.
	Lit string
	// Name is the target of a Ref, the logical id of a GetAtt, or the function name of a Func
	// ("Fn::If", "Condition", …).
	Name string
	// Attr is the attribute of a GetAtt ("Arn", "QueueName").
	Attr string
	// Template is the text of a Sub.
	Template string
	// Vars are a Sub's own variables (`!Sub [text, {Var: value}]`), as decoded values.
	Vars map[string]any
	// Args are a Func's decoded arguments.
	Args any
}

// Resolver answers what CloudFormation would substitute for a Ref or a GetAtt.
type Resolver interface {
	// Ref returns the value of a logical id, parameter or pseudo parameter ("AWS::Region").
	Ref(name string) (string, error)
	// GetAtt returns an attribute of a logical id.
	GetAtt(logicalID, attr string) (string, error)
}

// String renders v as it would appear in a short-form template, for messages and tests.
func (v Value) String() string {
	switch v.Kind {
	case Literal:
		return strconv.Quote(v.Lit)
	case Ref:
		return "!Ref " + v.Name
	case GetAtt:
		return "!GetAtt " + v.Name + "." + v.Attr
	case Sub:
		return "!Sub " + strconv.Quote(v.Template)
	default:
		return fmt.Sprintf("%s %v", v.Name, v.Args)
	}
}

// Resolve computes v, asking r for references.
func (v Value) Resolve(r Resolver) (string, error) {
	switch v.Kind {
	case Literal:
		return v.Lit, nil
	case Ref:
		return r.Ref(v.Name)
	case GetAtt:
		return r.GetAtt(v.Name, v.Attr)
	case Sub:
		return v.resolveSub(r)
	case Func:
		return v.resolveFunc(r)
	}
	return "", fmt.Errorf("resolve %v: unknown kind %d", v, v.Kind)
}

// resolveSub expands ${Name}, ${LogicalID.Attr} and ${AWS::Pseudo}; ${!Text} stands for a
// literal ${Text}, as in CloudFormation.
func (v Value) resolveSub(r Resolver) (string, error) {
	var b strings.Builder
	s := v.Template
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+2:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", fmt.Errorf("resolve %v: unclosed ${", v)
		}
		name := s[:j]
		s = s[j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var (
			out string
			err error
		)
		if x, ok := v.Vars[name]; ok {
			out, err = Resolve(x, r)
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			out, err = r.GetAtt(id, attr)
		} else {
			out, err = r.Ref(name)
		}
		if err != nil {
			return "", fmt.Errorf("resolve %v: %w", v, err)
		}
		b.WriteString(out)
	}
}

func (v Value) resolveFunc(r Resolver) (string, error) {
	args, _ := v.Args.([]any)
	switch v.Name {
	case "Fn::Join":
		if len(args) != 2 {
			break
		}
		sep, err := Resolve(args[0], r)
		if err != nil {
			return "", err
		}
		list, ok := args[1].([]any)
		if !ok {
			break
		}
		parts := make([]string, len(list))
		for i, x := range list {
			if parts[i], err = Resolve(x, r); err != nil {
				return "", err
			}
		}
		return strings.Join(parts, sep), nil
	case "Fn::Select":
		if len(args) != 2 {
			break
		}
		is, err := Resolve(args[0], r)
		if err != nil {
			return "", err
		}
		i, err := strconv.Atoi(is)
		list, ok := args[1].([]any)
		if err != nil || !ok || i < 0 || i >= len(list) {
			break
		}
		return Resolve(list[i], r)
	default:
		return "", fmt.Errorf("resolve %v: %s is not supported locally", v, v.Name)
	}
	return "", fmt.Errorf("resolve %v: malformed %s", v, v.Name)
}

// Resolve renders a decoded scalar (string, number, bool, nil or Value) as a string, asking r
// for references.
func Resolve(x any, r Resolver) (string, error) {
	switch x := x.(type) {
	case Value:
		return x.Resolve(r)
	case string:
		return x, nil
	case nil:
		return "", nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("resolve: %T is not a scalar", x)
}

// ResolveAll returns a copy of a decoded tree in which every Value is replaced by its resolved
// string, ready for json.Marshal (e.g. a queue's RedrivePolicy).
func ResolveAll(x any, r Resolver) (any, error) {
	switch x := x.(type) {
	case Value:
		return x.Resolve(r)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			v, err := ResolveAll(e, r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = v
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			v, err := ResolveAll(e, r)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	}
	return x, nil
}

// Refs returns the logical ids (and parameter names) that a decoded tree refers to through
// Ref, GetAtt, Sub or nested functions, in no particular order and possibly repeated. Pseudo
// parameters (AWS::…) are left out.
func Refs(x any) []string {
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case Value:
			switch x.Kind {
			case Ref, GetAtt:
				if !strings.HasPrefix(x.Name, "AWS::") {
					out = append(out, x.Name)
				}
			case Sub:
				s := x.Template
				for {
					i := strings.Index(s, "${")
					if i < 0 {
						break
					}
					s = s[i+2:]
					j := strings.IndexByte(s, '}')
					if j < 0 {
						break
					}
					name, _, _ := strings.Cut(s[:j], ".")
					s = s[j+1:]
					if _, own := x.Vars[name]; !own && !strings.HasPrefix(name, "!") && !strings.HasPrefix(name, "AWS::") {
						out = append(out, name)
					}
				}
				for _, v := range x.Vars {
					walk(v)
				}
			case Func:
				walk(x.Args)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(x)
	return out
}
