package config

import (
	"strconv"
	"strings"
)

// lineIndex maps every key path of a TOML document to the line (1-based)
// where it first appears. It exists because every pgtend config error cites
// file:line:key (see Error), and BurntSushi/toml, which does the actual
// parsing (and, in Encode, the writing), knows key positions internally but
// does not expose them: MetaData gives keys and types only, and exporting
// its per-key info with the Position is an open request upstream
// (https://github.com/BurntSushi/toml/issues/462). Users need line numbers
// to fix their files, so we re-scan the source ourselves. The scanner only
// runs on text that toml has already accepted, so it can be lenient; it must
// merely never loop or panic on anything.
//
// A key path is the list of key segments from the document root, e.g.
// targets / prod / tables / analytics.bars / retention. Paths are stored
// joined by NUL, which cannot appear in a TOML key.
type lineIndex map[string]int

func pathKey(path []string) string { return strings.Join(path, "\x00") }

// line returns the line of path, or of its nearest ancestor that the scanner
// saw (a key inside an inline table falls back to the table's key), or 0.
func (ix lineIndex) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := ix[pathKey(path[:n])]; ok {
			return l
		}
	}
	return 0
}

// indexLines scans src and records the first line of every table header,
// key/value key and inline-table key, including every prefix of dotted keys
// (so `[tables.x]` records both tables and tables.x).
func indexLines(src string) lineIndex {
	s := &lineScanner{src: src, line: 1, ix: lineIndex{}}
	s.document()
	return s.ix
}

type lineScanner struct {
	src  string
	pos  int
	line int
	ix   lineIndex
}

func (s *lineScanner) eof() bool { return s.pos >= len(s.src) }

func (s *lineScanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.pos]
}

func (s *lineScanner) advance() {
	if s.src[s.pos] == '\n' {
		s.line++
	}
	s.pos++
}

// record notes the current line for path and all its prefixes, keeping the
// first occurrence of each.
func (s *lineScanner) record(path []string, line int) {
	for n := 1; n <= len(path); n++ {
		k := pathKey(path[:n])
		if _, ok := s.ix[k]; !ok {
			s.ix[k] = line
		}
	}
}

// skipBlank skips spaces and tabs, and also newlines and comments when
// multiline is set (inside arrays and between statements).
func (s *lineScanner) skipBlank(multiline bool) {
	for !s.eof() {
		switch c := s.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			s.advance()
		case c == '\n' && multiline:
			s.advance()
		case c == '#':
			for !s.eof() && s.peek() != '\n' {
				s.advance()
			}
			if !multiline {
				return
			}
		default:
			return
		}
	}
}

// skipLine moves to the start of the next line.
func (s *lineScanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.advance()
	}
	if !s.eof() {
		s.advance()
	}
}

func (s *lineScanner) document() {
	var table []string
	for {
		s.skipBlank(true)
		if s.eof() {
			return
		}
		line := s.line
		if s.peek() == '[' {
			s.advance()
			if s.peek() == '[' { // [[array of tables]]
				s.advance()
			}
			s.skipBlank(false)
			table = s.key()
			s.record(table, line)
			s.skipLine()
			continue
		}
		start := s.pos
		k := s.key()
		if s.pos == start { // not a key: give up on this line rather than loop
			s.skipLine()
			continue
		}
		s.keyValue(table, k, line)
		s.skipLine()
	}
}

// keyValue handles `key = value` with the key already read; prefix is the
// enclosing table's path.
func (s *lineScanner) keyValue(prefix, k []string, line int) {
	path := append(append([]string(nil), prefix...), k...)
	s.record(path, line)
	s.skipBlank(false)
	if s.peek() != '=' {
		return
	}
	s.advance()
	s.value(path)
}

// key reads a possibly dotted key (bare or quoted segments) and stops after
// the key and any trailing blanks.
func (s *lineScanner) key() []string {
	var parts []string
	for {
		s.skipBlank(false)
		switch c := s.peek(); {
		case c == '"':
			parts = append(parts, s.basicKey())
		case c == '\'':
			s.advance()
			start := s.pos
			for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
				s.advance()
			}
			parts = append(parts, s.src[start:s.pos])
			if s.peek() == '\'' {
				s.advance()
			}
		case isBareKeyChar(c):
			start := s.pos
			for !s.eof() && isBareKeyChar(s.peek()) {
				s.advance()
			}
			parts = append(parts, s.src[start:s.pos])
		default:
			return parts
		}
		s.skipBlank(false)
		if s.peek() != '.' {
			return parts
		}
		s.advance()
	}
}

// basicKey reads a "double-quoted" key and decodes its escapes.
func (s *lineScanner) basicKey() string {
	start := s.pos
	s.advance() // opening quote
	for !s.eof() && s.peek() != '"' && s.peek() != '\n' {
		if s.peek() == '\\' {
			s.advance()
			if s.eof() {
				break
			}
		}
		s.advance()
	}
	if s.peek() == '"' {
		s.advance()
	}
	raw := s.src[start:s.pos]
	if k, err := strconv.Unquote(raw); err == nil {
		return k
	}
	return strings.Trim(raw, `"`) // TOML-only escapes such as \e: good enough for locating
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value skips one value, recording keys of inline tables under path. It
// tracks strings and brackets so that text inside multi-line strings or
// arrays is never mistaken for a key.
func (s *lineScanner) value(path []string) {
	s.skipBlank(false)
	switch {
	case strings.HasPrefix(s.src[s.pos:], `"""`):
		s.multilineString(`"""`, true)
	case strings.HasPrefix(s.src[s.pos:], `'''`):
		s.multilineString(`'''`, false)
	case s.peek() == '"':
		s.basicKey()
	case s.peek() == '\'':
		s.advance()
		for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
			s.advance()
		}
		if s.peek() == '\'' {
			s.advance()
		}
	case s.peek() == '[':
		s.advance()
		for {
			s.skipBlank(true)
			if s.eof() {
				return
			}
			if c := s.peek(); c == ']' || c == ',' {
				s.advance()
				if c == ']' {
					return
				}
				continue
			}
			start := s.pos
			s.value(path)
			if s.pos == start {
				s.advance()
			}
		}
	case s.peek() == '{':
		s.advance()
		for {
			s.skipBlank(true) // TOML 1.1 allows newlines in inline tables
			if s.eof() {
				return
			}
			if c := s.peek(); c == '}' || c == ',' {
				s.advance()
				if c == '}' {
					return
				}
				continue
			}
			line, start := s.line, s.pos
			k := s.key()
			if s.pos == start {
				s.advance()
				continue
			}
			s.keyValue(path, k, line)
		}
	default: // number, bool, date: runs until a delimiter
		for !s.eof() && !strings.ContainsRune(",]}\n#", rune(s.peek())) {
			s.advance()
		}
	}
}

// multilineString skips a multi-line string opened by delim (three double or
// three single quotes); only the double-quoted kind has escapes.
func (s *lineScanner) multilineString(delim string, escapes bool) {
	s.pos += len(delim)
	for !s.eof() {
		if escapes && s.peek() == '\\' {
			s.advance()
			if !s.eof() {
				s.advance()
			}
			continue
		}
		if strings.HasPrefix(s.src[s.pos:], delim) {
			s.pos += len(delim)
			// Up to two extra quotes may close the string (`""""` ends with a quote in the content).
			for i := 0; i < 2 && s.peek() == delim[0]; i++ {
				s.pos++
			}
			return
		}
		s.advance()
	}
}
