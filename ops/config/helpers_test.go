package config

import (
	"errors"
	"strings"
	"testing"
)

// doc joins lines with "\n" so a test's line numbers are its argument
// positions (first argument = line 1).
func doc(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// configErrors unpacks Parse's joined error into its *Error values.
func configErrors(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]*Error, 0, len(list))
	for _, e := range list {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("error %v (%T) is not a *config.Error", e, e)
		}
		out = append(out, ce)
	}
	return out
}

func mustParse(t *testing.T, data []byte) *Config {
	t.Helper()
	c, err := Parse("test.toml", data)
	if err != nil {
		t.Fatalf("Parse: %v\n--- input ---\n%s", err, data)
	}
	return c
}
