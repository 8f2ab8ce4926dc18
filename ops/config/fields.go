package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// section is one TOML table being validated. Its getters check types and
// report mismatches as *Error with the key's line, then let the caller carry
// on, so one run reports every problem. We walk a generic map instead of
// decoding into structs because struct decoding stops at the first type
// mismatch and matches field names case-insensitively (RETENTION would be
// accepted silently), and because walking lets us spot unknown keys exactly.
type section struct {
	p    *parser
	path []string
	m    map[string]any
}

func (s section) child(key string) []string {
	return append(append([]string(nil), s.path...), key)
}

func (s section) errorf(key string, format string, args ...any) {
	path := s.path
	if key != "" {
		path = s.child(key)
	}
	s.p.errorf(path, format, args...)
}

func (s section) has(key string) bool {
	_, ok := s.m[key]
	return ok
}

// line is the line of key, or of the section header when key is absent.
func (s section) line(key string) int { return s.p.lines.line(s.child(key)...) }

// keys returns the section's keys in file order, so errors come out in a
// deterministic order even before the final sort by line.
func (s section) keys() []string {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := s.line(keys[i]), s.line(keys[j])
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// unknown reports every key not in allowed. It reports the outermost unknown
// key only: a misspelled [bakup] section is one error, not one per key in it.
func (s section) unknown(allowed ...string) {
	for _, k := range s.keys() {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			s.errorf(k, "unknown key (expected one of: %s)", strings.Join(allowed, ", "))
		}
	}
}

// tomlType names a decoded TOML value's type for error messages.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any:
		return "an array"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// str returns a string value; example shows the expected shape in the type
// error ("90d" -> `must be a string like "90d"`). ok is false when the key is
// absent or has the wrong type.
func (s section) str(key, example string) (string, bool) {
	v, present := s.m[key]
	if !present {
		return "", false
	}
	str, ok := v.(string)
	if !ok {
		if example != "" {
			s.errorf(key, "must be a string like %q, not %s (write %s = %q)", example, tomlType(v), key, example)
		} else {
			s.errorf(key, "must be a string, not %s", tomlType(v))
		}
		return "", false
	}
	return str, true
}

// positiveDays reads key as days greater than zero ("14d", "2w");
// leaveOut says what leaving the key out does, for the error.
func (s section) positiveDays(key, example, leaveOut string) (int, bool) {
	v, ok := s.str(key, example)
	if !ok {
		return 0, false
	}
	n, err := parseDays(v)
	switch {
	case err != nil:
		s.errorf(key, "%v", err)
	case n <= 0:
		s.errorf(key, "must be greater than zero (got %q); leave %s out %s", v, key, leaveOut)
	default:
		return n, true
	}
	return 0, false
}

// zone reads a time zone: an IANA name Go and PostgreSQL both know
// ("America/New_York", "Asia/Kolkata", "UTC"); the calendar needs Go to
// know it, the comparisons the server.
func (s section) zone(key string) (string, bool) {
	v, ok := s.str(key, "Asia/Kolkata")
	if !ok {
		return "", false
	}
	if _, err := LoadZone(v); err != nil {
		s.errorf(key, "%v", err)
		return "", false
	}
	return v, true
}

func (s section) boolean(key string) (bool, bool) {
	v, present := s.m[key]
	if !present {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		s.errorf(key, "must be true or false, not %s", tomlType(v))
	}
	return b, ok
}

func (s section) integer(key string) (int64, bool) {
	v, present := s.m[key]
	if !present {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		s.errorf(key, "must be an integer, not %s", tomlType(v))
	}
	return n, ok
}

// strings returns an array of non-empty strings. Empty entries are errors:
// an empty column or directory name is always a mistake.
func (s section) strings(key string) ([]string, bool) {
	v, present := s.m[key]
	if !present {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		s.errorf(key, "must be an array of strings, not %s", tomlType(v))
		return nil, false
	}
	var out []string // nil for [], so an empty array equals an absent key
	good := true
	for i, e := range arr {
		str, ok := e.(string)
		switch {
		case !ok:
			s.errorf(key, "must be an array of strings; entry %d is %s", i+1, tomlType(e))
			good = false
		case str == "":
			s.errorf(key, "entry %d is an empty string", i+1)
			good = false
		default:
			out = append(out, str)
		}
	}
	return out, good
}

// sub returns the nested table key. ok is false when absent or not a table.
func (s section) sub(key string) (section, bool) {
	v, present := s.m[key]
	if !present {
		return section{}, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		s.errorf(key, "must be a table ([%s]), not %s", keyString(s.child(key)), tomlType(v))
		return section{}, false
	}
	return section{p: s.p, path: s.child(key), m: m}, true
}
