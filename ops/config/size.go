package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Expected growth is a rate in bytes per day. The "/day" suffix is optional
// because the unit is fixed; any other rate ("/hour") is refused rather than
// silently misread as per day.

var perDayRe = regexp.MustCompile(`(?i)\s*/\s*day$`)

func parseGrowth(s string) (int64, error) {
	t := perDayRe.ReplaceAllString(strings.TrimSpace(s), "")
	if strings.Contains(t, "/") {
		return 0, fmt.Errorf("bad size %q: growth is per day; write e.g. \"50 MB/day\"", s)
	}
	n, err := parseSize(t)
	if err != nil && !strings.Contains(err.Error(), "negative") && !strings.Contains(err.Error(), "too large") {
		return 0, fmt.Errorf("bad size %q: want a size per day like \"50 MB/day\", \"500 KiB/day\" or \"1048576 B/day\"", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%s", strings.Replace(err.Error(), fmt.Sprintf("%q", t), fmt.Sprintf("%q", s), 1))
	}
	return n, nil
}

// formatGrowth writes n bytes/day in a spelling that parses back to exactly
// n (humanize rounds: 52428801 B is "52 MB"), so a round trip through
// Encode never changes the policy.
func formatGrowth(n int64) string { return formatSize(n) + "/day" }
