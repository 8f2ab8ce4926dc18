package config

import (
	"strings"
	"testing"
)

func TestTimeZoneTopTargetAndTable(t *testing.T) {
	c := mustParse(t, doc(
		`time_zone = "America/New_York"`,
		`[tables.ticks]`,
		`time_column = "ts"`,
		`retention = "10d"`,
		`[tables.fills]`,
		`time_column = "at"`,
		`time_zone = "Asia/Kolkata"`,
		`[targets.eu]`,
		`dsn = "service=eu"`,
		`time_zone = "Europe/Berlin"`,
		`[targets.us]`,
		`dsn = "service=us"`,
	))
	ticks, _ := c.Policy.Table("ticks")
	fills, _ := c.Policy.Table("fills")
	if got := c.Policy.ZoneOf(ticks); got != "America/New_York" {
		t.Errorf("ticks: %q", got)
	}
	if got := c.Policy.ZoneOf(fills); got != "Asia/Kolkata" {
		t.Errorf("fills: %q", got)
	}
	if z := c.Targets["eu"].Policy.TimeZone; z != "Europe/Berlin" {
		t.Errorf("target eu: %q", z)
	}
	if z := c.Targets["us"].Policy.TimeZone; z != "America/New_York" {
		t.Errorf("target us inherits the top-level zone: %q", z)
	}
	if got := roundTrip(t, c.Policy); got.TimeZone != "America/New_York" || got.ZoneOf(fills) != "Asia/Kolkata" {
		t.Errorf("round trip lost the zones: %+v", got)
	}
}

func TestTimeZoneMustBeKnown(t *testing.T) {
	for _, bad := range []string{"Mars/Olympus_Mons", "", "Local"} {
		_, err := Parse("z.toml", doc(`time_zone = "`+bad+`"`))
		errs := configErrors(t, err)
		if len(errs) != 1 || errs[0].Key != "time_zone" || errs[0].Line != 1 || !strings.Contains(errs[0].Msg, "IANA") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	_, err := Parse("z.toml", doc(`[tables.x]`, `time_zone = "EST5EDTX"`))
	if errs := configErrors(t, err); errs[0].Key != "tables.x.time_zone" || errs[0].Line != 2 {
		t.Errorf("table zone: %v", err)
	}
}
