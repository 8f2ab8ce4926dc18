package pgtest

import (
	"os"
	"testing"
)

// SharedTempDir makes a directory that a server running as another user
// (postgres refuses root, so the tests' servers run as "postgres") may
// enter: t.TempDir's parent is private to this user. It is removed when
// the test ends.
func SharedTempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
