package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem in a policy file. Parse reports every problem it finds
// (joined with errors.Join, in file order) so a user can fix a file in one
// pass instead of one error per run.
type Error struct {
	File string // source name given to Parse
	Line int    // 1-based; 0 when unknown
	Key  string // dotted TOML key, quoted where needed: tables."analytics.bars".retention
	Msg  string
}

// Error formats as "<file>:<line>: <key>: <msg>", the shape editors and
// terminals recognise as a jump target; unknown parts are left out.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// keyString renders a key path the way it would be written in TOML.
func keyString(path []string) string { return toml.Key(path).String() }

// joinErrors orders errs by line (unknown lines last, otherwise discovery
// order) and joins them.
func joinErrors(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// syntaxError converts a toml decoding error into an *Error.
func syntaxError(file string, data []byte, err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Msg: err.Error()}
	}
	// toml counts an error on a line's final newline as the next line
	// ("[tables.x" + EOL is reported one line late); the byte offset is exact.
	line := pe.Position.Line
	if st := pe.Position.Start; st >= 0 && st <= len(data) {
		line = 1 + bytes.Count(data[:st], []byte("\n"))
	}
	// LastKey is the last key toml parsed, which may sit sections above the
	// error; naming it there would mislead, so keep it only when the error's
	// line holds that key.
	key := ""
	if pe.LastKey != "" {
		last := (&lineScanner{src: pe.LastKey}).key()
		if k := lineKey(lineText(data, line)); len(k) > 0 && hasSuffix(last, k) {
			key = keyString(last)
		}
	}
	return &Error{File: file, Line: line, Key: key, Msg: "TOML syntax: " + pe.Message}
}

// lineText returns line n (1-based) of data, or "".
func lineText(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// lineKey returns the key a single line defines: a [header] or key = value.
func lineKey(text string) []string {
	s := &lineScanner{src: text}
	s.skipBlank(false)
	for s.peek() == '[' {
		s.advance()
	}
	return s.key()
}

// hasSuffix reports whether path ends with the segments of suffix.
func hasSuffix(path, suffix []string) bool {
	if len(suffix) > len(path) {
		return false
	}
	return slices.Equal(path[len(path)-len(suffix):], suffix)
}
