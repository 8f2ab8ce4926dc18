package backup

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// Estimate is the size the next dump of database in format will have, and
// how it was told: the last verified backup of it in that format, else the
// database's size (databaseBytes; 0 when unknown) times the last
// compression ratio seen, else the database's size. The backup plan
// checks the room for it, the Health pane the backup directory's.
func Estimate(l Listing, database string, databaseBytes int64, format Format) (int64, string) {
	for _, e := range l.Entries {
		if e.Database == database && e.Format == format && e.State == StateVerified {
			return e.Bytes, "the last verified backup of " + database + ", " + e.Name
		}
	}
	for _, sameFormat := range []bool{true, false} {
		for _, e := range l.Entries {
			if e.State == StateVerified && e.DatabaseBytes > 0 && (e.Format == format) == sameFormat {
				ratio := float64(e.Bytes) / float64(e.DatabaseBytes)
				return int64(float64(databaseBytes) * ratio), fmt.Sprintf("the database's %s times the last compression ratio, %.0f%% (%s)",
					humanize.IBytes(uint64(max(databaseBytes, 0))), 100*ratio, e.Name)
			}
		}
	}
	return databaseBytes, "the database's size, no earlier backup to go by"
}
