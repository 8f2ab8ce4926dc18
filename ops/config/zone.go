package config

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zone names resolve on hosts without /usr/share/zoneinfo too
)

// LoadZone resolves a policy's time zone. "Local" and "" are refused: the
// point of naming a zone is not to depend on the machine pgtend runs on.
func LoadZone(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q: name an IANA zone such as \"America/New_York\", \"Asia/Kolkata\" or \"UTC\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: name an IANA zone such as \"America/New_York\", \"Asia/Kolkata\" or \"UTC\"", name)
	}
	return loc, nil
}
