package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestArchivesAreVerifiedAndKeepLinks(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "models")
	os.MkdirAll(filepath.Join(src, "old"), 0o755)
	os.WriteFile(filepath.Join(src, "vol_v4.pkl"), []byte(strings.Repeat("weights", 10000)), 0o644)
	os.WriteFile(filepath.Join(src, "old", "vol_v3.pkl"), []byte("older weights"), 0o644)
	os.WriteFile(filepath.Join(root, "secret.txt"), []byte("outside the directory"), 0o600)
	os.Symlink("../secret.txt", filepath.Join(src, "leak"))
	dest := filepath.Join(root, "archive")

	members, bytes, err := Scan(src, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes != 70000+13 {
		t.Errorf("bytes %d", bytes)
	}
	name := ArchiveName("models", ArchiveWhole, time.Date(2026, 7, 5, 0, 0, 0, 0, time.Local))
	if name != "models_backup_20260705.tar.gz" {
		t.Errorf("name %s", name)
	}
	made, err := MakeArchive(context.Background(), members, dest, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if made.Files != 2 || made.Source != bytes {
		t.Errorf("made %+v", made)
	}
	// The link is a link: the file outside is not in the archive.
	for _, m := range members {
		if m.Name == "models/leak" && (m.Type != '2' || m.Link != "../secret.txt") {
			t.Errorf("the link was followed: %+v", m)
		}
	}
	list, err := ListArchives(dest)
	if err != nil || len(list) != 1 || !list[0].Verified || list[0].Kind != ArchiveWhole || list[0].Source != "models" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if _, err := VerifyArchive(context.Background(), made.Path, members); err != nil {
		t.Fatal(err)
	}
	// Cut short, it fails its read-back.
	fi, _ := os.Stat(made.Path)
	os.Truncate(made.Path, fi.Size()*6/10)
	if _, err := VerifyArchive(context.Background(), made.Path, members); err == nil {
		t.Error("a truncated archive verified")
	}
	// Nothing to archive is said, not archived.
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	for _, d := range []string{empty, filepath.Join(root, "missing")} {
		if _, _, err := Scan(d, time.Time{}, time.Time{}); !errors.Is(err, ErrNothingToArchive) {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestMonthlyArchiveTakesLastMonthsFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "trade_logs")
	os.Mkdir(src, 0o755)
	june := time.Date(2026, 6, 30, 12, 0, 0, 0, time.Local)
	july := time.Date(2026, 7, 1, 0, 30, 0, 0, time.Local)
	for name, at := range map[string]time.Time{"june.csv": june, "july.csv": july, "may.csv": june.AddDate(0, -1, 0)} {
		p := filepath.Join(src, name)
		os.WriteFile(p, []byte(name), 0o644)
		os.Chtimes(p, at, at)
	}
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.Local)
	members, _, err := Scan(src, from, from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0].Name != "trade_logs/june.csv" {
		t.Errorf("members %+v", members)
	}
	if _, _, err := Scan(src, from.AddDate(0, -3, 0), from.AddDate(0, -2, 0)); !errors.Is(err, ErrNothingToArchive) {
		t.Errorf("an empty month: %v", err)
	}
	if n := ArchiveName("trade_logs", ArchiveMonthly, from); n != "trade_logs_archive_202606.tar.gz" {
		t.Errorf("name %s", n)
	}
}
