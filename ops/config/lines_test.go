package config

import "testing"

func TestIndexLines(t *testing.T) {
	src := string(doc(
		`# comment [not.a.header]`, // 1
		`top = 1`,                  // 2
		`[connection]`,             // 3
		`statement_timeout = "30s" # key = "value"`, // 4
		``,                                    // 5
		`[ tables . "analytics.bars" ]`,       // 6
		`retention = "9d"`,                    // 7
		`notes = """`,                         // 8
		`fake = "inside a multi-line string"`, // 9
		`[tables.fake]`,                       // 10
		`"""`,                                 // 11
		`segment_by = [`,                      // 12
		`  "exchange", # fake2 = 1`,           // 13
		`  'sym]bol',`,                        // 14
		`]`,                                   // 15
		`[tables.'lit.name']`,                 // 16
		`inline = { a = 1, b = { c = "}" } }`, // 17
		`"quoted \"key\"" = 1`,                // 18
		`dotted.key.path = '''x = 1`,          // 19
		`[y] = 2'''`,                          // 20
		`[[targets.list]]`,                    // 21
		`after = true`,                        // 22
	))
	ix := indexLines(src)
	cases := []struct {
		path []string
		want int
	}{
		{[]string{"top"}, 2},
		{[]string{"connection"}, 3},
		{[]string{"connection", "statement_timeout"}, 4},
		{[]string{"tables"}, 6},
		{[]string{"tables", "analytics.bars"}, 6},
		{[]string{"tables", "analytics.bars", "retention"}, 7},
		{[]string{"tables", "analytics.bars", "notes"}, 8},
		{[]string{"tables", "analytics.bars", "segment_by"}, 12},
		{[]string{"tables", "lit.name"}, 16},
		{[]string{"tables", "lit.name", "inline"}, 17},
		{[]string{"tables", "lit.name", "inline", "b", "c"}, 17},
		{[]string{"tables", "lit.name", `quoted "key"`}, 18},
		{[]string{"tables", "lit.name", "dotted"}, 19},
		{[]string{"tables", "lit.name", "dotted", "key", "path"}, 19},
		{[]string{"targets", "list"}, 21},
		{[]string{"targets", "list", "after"}, 22},
		// Unknown paths fall back to their nearest known ancestor.
		{[]string{"tables", "analytics.bars", "nope"}, 6},
		{[]string{"nothing"}, 0},
	}
	for _, c := range cases {
		if got := ix.line(c.path...); got != c.want {
			t.Errorf("line(%q) = %d, want %d", c.path, got, c.want)
		}
	}
	// Text inside strings, comments and arrays must not become keys.
	for _, fake := range [][]string{{"fake"}, {"tables", "fake"}, {"tables", "analytics.bars", "fake"}, {"tables", "analytics.bars", "fake2"}, {"y"}, {"not"}} {
		if _, ok := ix[pathKey(fake)]; ok {
			t.Errorf("scanner recorded %q, which is not a key", fake)
		}
	}
}

// The scanner runs on arbitrary text in tests and must always terminate.
func TestIndexLinesGarbage(t *testing.T) {
	for _, s := range []string{"", "[", "[[", "= = =", `"unterminated`, `a = [1, 2`, `a = {`, `a = """`, "a = '''", "\\", "a.=1", "[a.]\n]"} {
		indexLines(s)
	}
}

func TestIndexLinesMultilineQuotes(t *testing.T) {
	ix := indexLines(string(doc(
		`a = """ \""" still inside`, // 1: an escaped quote does not close
		`b = 1 """"`,                // 2: closes, with one quote of content
		`c = 2`,                     // 3
		`d = '''\'''`,               // 4: no escapes in literal strings
		`e = 3`,                     // 5
	)))
	for k, want := range map[string]int{"a": 1, "c": 3, "d": 4, "e": 5} {
		if got := ix.line(k); got != want {
			t.Errorf("line(%s) = %d, want %d", k, got, want)
		}
	}
	if _, ok := ix["b"]; ok {
		t.Error("b is inside a string but was recorded")
	}
}
