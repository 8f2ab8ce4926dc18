package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgtend/pgtend/ops/config"
)

// Files are the demo's files outside the database, all under one directory
// (the throwaway cluster's): a backup, as a nightly pg_dump leaves it, and
// the directories the policy archives.
type Files struct {
	BackupDir   string // holds Backup
	Backup      string // <database>_<YYYYmmdd_HHMMSS>.dump
	ArchiveDirs []string
	ArchiveDest string // where an archive run copies them; not created
}

// FilesOptions say where WriteFiles works and how it reaches the database.
type FilesOptions struct {
	Dir    string // the directory to write in
	PgDump string // the pg_dump binary, best the server's own (same version)
	DSN    string // the seeded database
	Now    time.Time
}

// WriteFiles writes the backup and the directories to archive.
func WriteFiles(ctx context.Context, o FilesOptions) (*Files, error) {
	f := &Files{
		BackupDir:   filepath.Join(o.Dir, "backups"),
		ArchiveDirs: []string{filepath.Join(o.Dir, "models"), filepath.Join(o.Dir, "trade_logs")},
		ArchiveDest: filepath.Join(o.Dir, "archive"),
	}
	for _, d := range append([]string{f.BackupDir}, f.ArchiveDirs...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := writeArchiveFiles(f.ArchiveDirs[0], f.ArchiveDirs[1], o.Now); err != nil {
		return nil, err
	}
	var err error
	f.Backup, err = dump(ctx, o.PgDump, o.DSN, f.BackupDir, o.Now)
	return f, err
}

// Policy returns base with its backup and archive paths pointing at the
// demo's files, so that nothing the demo shows or does reaches the
// operator's real backup or archive directories.
func (f *Files) Policy(base config.Policy) config.Policy {
	p := base
	p.Backup.Dir = f.BackupDir
	if p.Backup.KeepDaily < 1 {
		p.Backup.KeepDaily = 7
	}
	// As the guide does: models/ whole every week, trade_logs/ by month.
	p.Archive = config.Archive{Dirs: []string{f.ArchiveDirs[0]}, MonthlyDirs: []string{f.ArchiveDirs[1]}, Dest: f.ArchiveDest}
	return p
}

// dump runs pg_dump -Fc into dir, naming the file as a nightly cron line
// does (`<database>_$(date +%Y%m%d_%H%M%S).dump`, local time). The
// connection goes through libpq's environment, never argv, where any user
// of the machine could read a password.
func dump(ctx context.Context, pgDump, dsn, dir string, now time.Time) (string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, cfg.Database+"_"+now.Local().Format("20060102_150405")+".dump")
	// Compression level 1: half the time of the default level for a file
	// a fifth bigger, which keeps the demo quick to start.
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--compress=1", "--file="+path)
	cmd.Env = append(os.Environ(), "PGHOST="+cfg.Host, "PGPORT="+strconv.Itoa(int(cfg.Port)),
		"PGUSER="+cfg.User, "PGDATABASE="+cfg.Database)
	if cfg.Password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+cfg.Password)
	}
	if cfg.TLSConfig == nil {
		cmd.Env = append(cmd.Env, "PGSSLMODE=disable")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// TimescaleDB's catalog makes pg_dump warn about circular foreign keys
	// on every run; its output matters only when it fails.
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("pg_dump: %w\n%s", err, msg)
	}
	return path, nil
}
