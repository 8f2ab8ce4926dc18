package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// RequireExtension skips the test, loudly, when the server cannot create
// extension name (not installed on this machine): the skip names the
// Debian package that brings it, for the server's major version.
func RequireExtension(t testing.TB, conn *pgx.Conn, name string) {
	t.Helper()
	var available bool
	var major int
	err := conn.QueryRow(context.Background(), `
		SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1),
		       current_setting('server_version_num')::int / 10000`, name).Scan(&available, &major)
	if err != nil {
		t.Fatal(err)
	}
	if !available {
		t.Skipf("SKIPPED: %s is not installed on this machine (Debian: apt-get install %s); its code paths are untested here",
			name, debianPackage(name, major))
	}
}

func debianPackage(extension string, major int) string {
	switch extension {
	case "pg_partman":
		return fmt.Sprintf("postgresql-%d-partman", major)
	case "pg_cron":
		return fmt.Sprintf("postgresql-%d-cron", major)
	}
	return fmt.Sprintf("postgresql-%d-%s", major, extension)
}
