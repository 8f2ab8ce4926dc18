package text

import (
	"strings"
	"unicode"
)

// Clean makes a string from the database safe to draw: control characters
// (escape sequences, newlines, tabs, C1 controls) become U+FFFD's visible
// cousin "?", so a table named "\x1b[2J" cannot repaint the screen.
func Clean(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, s)
}

// cleanASCII is Clean for terminals that are not UTF-8: every non-ASCII
// rune becomes "?" too, as the locale could not show it.
func CleanASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0x80 || isControl(r) {
			return '?'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == unicode.ReplacementChar || (r >= 0x200e && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
