package report

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ReadDisk measures the data directory's filesystem alone, without the
// rest of the report: a checklist reads it before its first step and after
// its last, to say what the routine freed on disk.
func ReadDisk(ctx context.Context, conn *pgx.Conn) (Disk, error) {
	var f diskFacts
	err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database()),
		(SELECT setting FROM pg_settings WHERE name = 'data_directory'), current_setting('port')`).
		Scan(&f.DatabaseBytes, &f.DataDirectory, &f.Port)
	if err != nil {
		return Disk{}, fmt.Errorf("reading the data directory: %w", err)
	}
	return measureDisk(f), nil
}
