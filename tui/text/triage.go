package text

import (
	"fmt"
	"io"
	"strings"

	"github.com/pgtend/pgtend/ops/triage"
)

// FreesText says when an option's bytes come back, in a few words.
func FreesText(frees string) string {
	switch frees {
	case triage.FreesNow:
		return "now"
	case triage.FreesCheckpoint:
		return "at checkpoint"
	case triage.FreesReuseOnly:
		return "reuse only"
	case triage.FreesNeedsFreeSpace:
		return "needs room"
	}
	return frees
}

// FreesPhrase says when an option's bytes come back, as a sentence's end.
func FreesPhrase(frees string) string {
	switch frees {
	case triage.FreesNow:
		return "back now"
	case triage.FreesCheckpoint:
		return "back at the next checkpoint"
	case triage.FreesReuseOnly:
		return "reused inside PostgreSQL only"
	case triage.FreesNeedsFreeSpace:
		return "back only after a rewrite that first needs room"
	}
	return frees
}

// KindText is an option's kind as a person reads it.
func KindText(kind string) string {
	return strings.ReplaceAll(kind, "_", " ")
}

// OptionBytes is an option's bytes, "~" before an estimate.
func OptionBytes(o triage.Option) string {
	if o.Estimate {
		return "~" + BytesOf(o.Bytes)
	}
	return BytesOf(o.Bytes)
}

// OptionWhat names what an option is about: its kind, its table or
// object, and what it is.
func OptionWhat(o triage.Option) string {
	what := KindText(o.Kind)
	if o.Schema != nil && o.Table != nil {
		what += " " + Clean(*o.Schema+"."+*o.Table)
		if o.Object != "" {
			what += ": " + Clean(o.Object)
		}
		return what
	}
	return what + " " + Clean(o.Object)
}

// DaysText is how many days an option buys or the filesystem lasts: "—"
// when the growth is unknown.
func DaysText(days *float64) string {
	switch {
	case days == nil:
		return "—"
	case *days >= 10000:
		return ">10000 d"
	case *days < 0.1:
		return "<0.1 d"
	case *days < 1:
		return fmt.Sprintf("%.1f d", *days)
	}
	return fmt.Sprintf("%.0f d", *days)
}

// FilesystemLine says how full the data directory's filesystem is and the
// forecast, in one line.
func FilesystemLine(t *triage.Triage) string {
	fs := t.Filesystem
	pct, ok := fs.UsedPercent()
	if !ok {
		return "filesystem not visible: " + Clean(fs.Reason)
	}
	line := fmt.Sprintf("%s: %s free of %s (%.0f%% used)", Clean(StringOr(fs.Path, "data directory")), BytesOf(*fs.FreeBytes), BytesOf(*fs.TotalBytes), pct)
	switch {
	case t.GrowthBasis == "":
		return line + "; growth unknown"
	case t.DaysUntilFull == nil:
		return line + "; not growing (" + t.GrowthBasis + ")"
	}
	return fmt.Sprintf("%s; full in about %s at %s/day (%s)", line, DaysText(t.DaysUntilFull), BytesOf(int64(t.GrowthPerDay)), t.GrowthBasis)
}

// PartLine is one piece of an option, as its detail lists it: a chunk
// with what compressing it frees and the room it needs meanwhile.
func PartLine(o triage.Option, p triage.Part) string {
	approx := ""
	if o.Estimate {
		approx = "~"
	}
	return fmt.Sprintf("%s: %s, frees %s%s, needs %s%s free", Clean(p.Name), BytesOf(p.Size), approx, BytesOf(p.Bytes), approx, BytesOf(p.NeedsFreeBytes))
}

// ActionText is the command of an option, or why none does it; names
// from the database are in both, so both are cleaned.
func ActionText(o triage.Option) string {
	switch {
	case o.Blocked != "":
		return Clean(o.Blocked)
	case o.Action != nil:
		return Clean(*o.Action)
	}
	return "no pgtend action: see above"
}

// WriteTriage prints `pgtend triage`: the filesystem and forecast, then
// each option ranked — bytes (~ an estimate), when they come back, the
// days they buy, what it is, its locks, how the space returns, and the
// command that frees it — then the notes.
func WriteTriage(w io.Writer, t *triage.Triage) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Storage triage of %s, %s\n%s\n", Clean(t.Database), t.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), FilesystemLine(t))
	if len(t.Options) == 0 {
		b.WriteString("\nnothing found to free: no expired data, bloat, slot, leftover or file beyond the rules\n")
	}
	for i, o := range t.Options {
		fmt.Fprintf(&b, "\n%2d. %s — %s, %s, buys %s\n", i+1, OptionWhat(o), OptionBytes(o), FreesPhrase(o.Frees), DaysText(o.DaysBought))
		if o.Detail != "" {
			fmt.Fprintf(&b, "    %s\n", Clean(o.Detail))
		}
		if o.NeedsFreeBytes > 0 {
			fmt.Fprintf(&b, "    needs %s free while it runs\n", BytesOf(o.NeedsFreeBytes))
		}
		for _, p := range o.Parts {
			fmt.Fprintf(&b, "      - %s\n", PartLine(o, p))
		}
		fmt.Fprintf(&b, "    locks: %s\n    figure: %s\n    → %s\n", Clean(o.Locks), Clean(o.Basis), ActionText(o))
	}
	if len(t.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  - %s\n", Clean(n))
		}
	}
	b.WriteString("\n~ marks an estimate; \"reuse only\" space stays with PostgreSQL for new rows of the same table.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
