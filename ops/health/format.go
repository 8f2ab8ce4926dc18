package health

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Since is how long ago t was at now, as operators say it: "45s", "12m",
// "5h12m", "3d4h".
func Since(t time.Time, now time.Time) string { return Span(now.Sub(t)) }

// Span formats a duration the way Since does.
func Span(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

func count(n int64) string { return humanize.Comma(n) }

// xids is "1 XID", "1,204 XIDs".
func xids(n int64) string {
	if n == 1 {
		return "1 XID"
	}
	return count(n) + " XIDs"
}

func bytesOf(n int64) string {
	if n < 0 {
		return "-" + humanize.IBytes(uint64(-n))
	}
	return humanize.IBytes(uint64(n))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return count(int64(n)) + " " + noun + "s"
}

// oneLine folds white space (a query's line breaks) and cuts to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

func pct(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * part / whole
}

func ev(label, value, source string) Evidence {
	return Evidence{Label: label, Value: value, Source: source}
}
