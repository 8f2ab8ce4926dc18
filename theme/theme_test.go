package theme

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// glyphTexts lists every string of a glyph set, the border's included.
func glyphTexts(g Glyphs) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(g)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if s, ok := v.Field(i).Interface().(string); ok {
			out[f.Name] = s
		}
	}
	for prefix, border := range map[string]any{"Border.": g.Border, "FocusBorder.": g.FocusBorder} {
		b := reflect.ValueOf(border)
		for i := range b.NumField() {
			if s, ok := b.Field(i).Interface().(string); ok && s != "" {
				out[prefix+b.Type().Field(i).Name] = s
			}
		}
	}
	return out
}

func TestASCIIGlyphsAreASCII(t *testing.T) {
	for name, s := range glyphTexts(ASCIIGlyphs) {
		for _, r := range s {
			if r >= utf8.RuneSelf {
				t.Errorf("ASCIIGlyphs.%s = %q holds %q", name, s, r)
			}
		}
	}
}

// The layout counts on these widths: a one-cell cursor (marker "x "), a
// one-cell ellipsis (cells are cut to the exact width) and bar steps.
func TestGlyphWidths(t *testing.T) {
	oneCell := []string{"BarFull", "BarHalf", "BarEmpty", "Cursor", "Ellipsis", "Check", "Cross"}
	for _, g := range []Glyphs{UnicodeGlyphs, ASCIIGlyphs} {
		texts := glyphTexts(g)
		for _, name := range oneCell {
			if w := ansi.StringWidth(texts[name]); w != 1 {
				t.Errorf("%s = %q is %d cells wide", name, texts[name], w)
			}
		}
		for name, s := range texts {
			if strings.Contains(name, "Border.") && ansi.StringWidth(s) != 1 {
				t.Errorf("%s = %q is not one cell", name, s)
			}
		}
	}
}

func TestMonoSaysWithoutColour(t *testing.T) {
	for _, dark := range []bool{true, false} {
		s := New(dark, false, true)
		if !s.Selected.GetReverse() {
			t.Error("mono selection is not reverse video")
		}
		if !s.Changed.GetUnderline() && !s.Changed.GetReverse() {
			t.Error("mono highlight relies on colour")
		}
		c := New(dark, false, false)
		if c.Selected.GetReverse() {
			t.Error("colour selection uses reverse video")
		}
	}
}
