// Package envconfig loads a function's configuration from environment variables into a struct
// whose fields say, in `env` tags, which variable each comes from. The same struct is read by the
// Lambda main (from the process environment) and by the local stack (from template.yaml), and a
// test holds every tagged variable to the function's declaration in template.yaml.
package envconfig

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Lookup returns the value of a variable and whether it is set (os.LookupEnv's shape).
type Lookup func(name string) (string, bool)

// Load fills the tagged fields of the struct dst points to. A tag is `env:"NAME"` (required) or
// `env:"NAME,optional"`. Supported field types: string, int, bool, time.Duration (Go syntax, or a
// whole number of seconds when the name ends in _SECONDS).
func Load(lookup Lookup, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("envconfig: %T is not a pointer to a struct", dst)
	}
	var errs []error
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		name, optional, ok := parseTag(f)
		if !ok {
			continue
		}
		raw, set := lookup(name)
		if !set || raw == "" {
			if !optional {
				errs = append(errs, fmt.Errorf("%s is not set", name))
			}
			continue
		}
		if err := setField(v.Field(i), name, raw); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// MustLoad loads from the process environment and exits on error: a Lambda without its
// configuration must fail at init, loudly, not on the first request.
func MustLoad(dst any) {
	if err := Load(os.LookupEnv, dst); err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(1)
	}
}

// Names returns the variable names the struct type of dst reads.
func Names(dst any) []string {
	t := reflect.TypeOf(dst)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, ok := parseTag(t.Field(i)); ok {
			names = append(names, name)
		}
	}
	return names
}

func parseTag(f reflect.StructField) (name string, optional, ok bool) {
	tag, ok := f.Tag.Lookup("env")
	if !ok {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	return name, opts == "optional", true
}

func setField(f reflect.Value, name, raw string) error {
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		if strings.HasSuffix(name, "_SECONDS") {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				return fmt.Errorf("%s: %q is not a whole number of seconds", name, raw)
			}
			f.SetInt(int64(time.Duration(n) * time.Second))
			return nil
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(raw)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number", name, raw)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not true or false", name, raw)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("%s: unsupported field type %s", name, f.Type())
	}
	return nil
}
