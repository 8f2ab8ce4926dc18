package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// Expected growth is a rate in bytes per day. The "/day" suffix is optional
// because the unit is fixed; any other rate ("/hour") is refused rather than
// silently misread as per day.

var perDayRe = regexp.MustCompile(`(?i)\s*/\s*day$`)

func parseGrowth(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = perDayRe.ReplaceAllString(t, "")
	if strings.Contains(t, "/") {
		return 0, fmt.Errorf("bad size %q: growth is per day; write e.g. \"50 MB/day\"", s)
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("bad size %q: must not be negative", s)
	}
	n, err := humanize.ParseBytes(t)
	if n > math.MaxInt64 || err != nil && strings.Contains(err.Error(), "too large") {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	if err != nil || t == "" {
		return 0, fmt.Errorf("bad size %q: want a size per day like \"50 MB/day\", \"500 KiB/day\" or \"1048576 B/day\"", s)
	}
	return int64(n), nil
}

// formatGrowth writes n bytes/day as humanize would, but only in a spelling
// that parses back to exactly n: humanize rounds (52428801 B is "52 MB"), and
// a round trip through Encode must not change the policy.
func formatGrowth(n int64) string {
	if n < 0 {
		n = 0 // unreachable from Parse; keep output parseable anyway
	}
	u := uint64(n)
	for _, s := range []string{humanize.Bytes(u), humanize.IBytes(u)} {
		if back, err := humanize.ParseBytes(s); err == nil && back == u {
			return s + "/day"
		}
	}
	return strconv.FormatUint(u, 10) + " B/day"
}
