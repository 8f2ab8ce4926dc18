package checklist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LogBudget is how many bytes of log are read at most, over every file: a
// week of errors fits, a log flooded with statements is not read whole.
const LogBudget = 8 << 20

// maxLogLines is how many error lines are kept, the latest.
const maxLogLines = 200

// Logs is the server log's ERROR, FATAL and PANIC lines since a time.
type Logs struct {
	File     string    `json:"file"`     // the current log file, as the server names it
	Files    []string  `json:"files"`    // the files read, oldest first: the rotated ones modified since Since, then File
	Readable bool      `json:"readable"` // the lines were read
	Reason   string    `json:"reason"`   // why not, when not
	Denied   bool      `json:"denied"`   // not read for want of a privilege (pg_monitor, pg_read_server_files)
	Via      string    `json:"via"`      // "pg_read_file", or "this machine's file"
	Since    time.Time `json:"since"`    // zero: every file, as far as the budget goes
	Zone     string    `json:"zone"`     // the server's log_timezone, which the lines' times are read in
	Note     string    `json:"note"`     // what makes the cut-off inexact (no time in log_line_prefix, an unknown zone), "" when exact
	Lines    []string  `json:"lines"`    // the latest maxLogLines
	Total    int       `json:"total"`    // every matching line found
	// Partial: the budget ran out — the oldest file read was read only to
	// its end, older files modified since Since not at all (Skipped).
	Partial bool  `json:"partial"`
	Skipped int   `json:"skipped"` // files modified since Since left unread
	Budget  int64 `json:"budget"`  // the bytes read at most
}

var severityRe = regexp.MustCompile(`\b(ERROR|FATAL|PANIC):  `)

// ReadLogs reads the server's log files modified since since — the
// current one and those rotated out of it, newest first, LogBudget bytes
// at most — through pg_read_file, or when the role may not, on this
// machine, and keeps their error lines since since, the lines' times read
// as the server's log_line_prefix and log_timezone write them. A log that
// cannot be read says why, it is no error.
func ReadLogs(ctx context.Context, conn *pgx.Conn, since time.Time) (*Logs, error) {
	return readLogs(ctx, conn, since, LogBudget)
}

func readLogs(ctx context.Context, conn *pgx.Conn, since time.Time, budget int64) (*Logs, error) {
	l := &Logs{Since: since, Budget: budget}
	// Asked first, not tried: a refused call is an ERROR line of the very
	// log under review, at every review.
	var g logGrants
	if err := conn.QueryRow(ctx, `SELECT has_function_privilege('pg_current_logfile()', 'EXECUTE'),
		has_function_privilege('pg_ls_logdir()', 'EXECUTE'),
		has_function_privilege('pg_read_file(text, bigint, bigint)', 'EXECUTE') AND has_function_privilege('pg_stat_file(text)', 'EXECUTE')`).Scan(&g.current, &g.list, &g.read); err != nil {
		return nil, fmt.Errorf("asking for the log functions' privileges: %w", err)
	}
	if !g.current {
		l.Reason, l.Denied = "this role may not ask for the server's log file (pg_current_logfile() is a superuser's unless EXECUTE on it is granted)", true
		return l, nil
	}
	var file *string
	if err := conn.QueryRow(ctx, `SELECT pg_current_logfile()`).Scan(&file); err != nil {
		return nil, fmt.Errorf("asking for the log file: %w", err)
	}
	if file == nil {
		l.Reason = "the server writes no log file of its own (logging_collector is off): its log goes to its standard error, the journal or wherever it was started from"
		return l, nil
	}
	l.File = *file
	clock, err := serverLogClock(ctx, conn, l)
	if err != nil {
		return nil, err
	}
	files, err := logFiles(ctx, conn, *file, since, g.list)
	if err != nil {
		return nil, err
	}
	var texts []string // newest first
	left := budget
	for i, f := range files {
		if left <= 0 {
			l.Partial, l.Skipped = true, len(files)-i
			break
		}
		text, via, whole, err := readLogFile(ctx, conn, f, left, g.read)
		if err != nil {
			if i == 0 { // the current file: nothing can be said
				var pe privilegeError
				l.Reason, l.Denied = err.Error(), errors.As(err, &pe)
				return l, nil
			}
			l.Skipped++ // a rotated file gone since it was listed
			continue
		}
		l.Via = via
		left -= int64(len(text))
		texts = append(texts, text)
		l.Files = append(l.Files, f)
		if !whole {
			l.Partial, l.Skipped = true, len(files)-i-1
			break
		}
	}
	slices.Reverse(texts)
	slices.Reverse(l.Files)
	l.Readable = true
	l.Lines, l.Total = ErrorLines(strings.Join(texts, "\n"), since, clock)
	return l, nil
}

// logGrants are the log functions this role may call.
type logGrants struct{ current, list, read bool }

// serverLogClock reads log_line_prefix and log_timezone (pg_settings hides
// what a role may not see rather than fail).
func serverLogClock(ctx context.Context, conn *pgx.Conn, l *Logs) (LogClock, error) {
	var prefix, zone *string
	err := conn.QueryRow(ctx, `SELECT (SELECT setting FROM pg_settings WHERE name = 'log_line_prefix'),
		(SELECT setting FROM pg_settings WHERE name = 'log_timezone')`).Scan(&prefix, &zone)
	if err != nil {
		return LogClock{}, fmt.Errorf("reading log_line_prefix and log_timezone: %w", err)
	}
	if zone != nil {
		l.Zone = *zone
	}
	clock, note := NewLogClock(deref(prefix), l.Zone, prefix != nil)
	l.Note = note
	return clock, nil
}

// logFiles are the log files to read, newest first: the current one, then
// those of its directory with its extension modified since since (every
// one when since is zero). A role that may not list the log directory
// (pg_ls_logdir needs pg_monitor) reads the current file only.
func logFiles(ctx context.Context, conn *pgx.Conn, current string, since time.Time, mayList bool) ([]string, error) {
	files := []string{current}
	if !mayList {
		return files, nil
	}
	rows, err := conn.Query(ctx, `SELECT name, modification FROM pg_ls_logdir() ORDER BY modification DESC, name DESC`)
	if err != nil {
		return files, nil
	}
	defer rows.Close()
	dir, ext := path.Dir(current), path.Ext(current)
	// pg_ls_logdir's times are whole seconds: a file written after since
	// may show the second since falls in.
	cut := since.Truncate(time.Second)
	for rows.Next() {
		var name string
		var mod time.Time
		if err := rows.Scan(&name, &mod); err != nil {
			return nil, err
		}
		p := path.Join(dir, name)
		if p == current || path.Ext(name) != ext || !since.IsZero() && mod.Before(cut) {
			continue
		}
		files = append(files, p)
	}
	if err := rows.Err(); err != nil && !denied(err) {
		return nil, fmt.Errorf("listing the log directory: %w", err)
	}
	return files, nil
}

// readLogFile reads the last n bytes of a log file through the server
// (when the role may call pg_read_file), else on this machine; whole says
// it was read from its start. A tail read drops the line it starts inside.
func readLogFile(ctx context.Context, conn *pgx.Conn, file string, n int64, mayRead bool) (text, via string, whole bool, err error) {
	if mayRead {
		var off int64
		err = conn.QueryRow(ctx, `SELECT greatest((pg_stat_file($1)).size - $2, 0)`, file, n).Scan(&off)
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT pg_read_file($1, $2, $3)`, file, off, n).Scan(&text)
		}
		if err == nil {
			return dropPartialLine(text, off), "pg_read_file", off == 0, nil
		}
		if !denied(err) { // denied: a log directory outside the data directory, without pg_read_server_files
			return "", "", false, fmt.Errorf("reading %s through the server: %v", file, err)
		}
	}
	p := file
	if !filepath.IsAbs(p) {
		var dir *string
		_ = conn.QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = 'data_directory'`).Scan(&dir)
		if dir == nil {
			return "", "", false, privilegeError("this role may not read server files (pg_read_file and pg_stat_file are a superuser's unless EXECUTE on them is granted; a log directory outside the data directory needs pg_read_server_files too), nor learn the data directory the log is in")
		}
		p = filepath.Join(*dir, file)
	}
	text, off, ferr := readTail(p, n)
	if ferr != nil {
		return "", "", false, privilegeError(fmt.Sprintf("this role may not read server files (pg_read_file and pg_stat_file are a superuser's unless EXECUTE on them is granted; a log directory outside the data directory needs pg_read_server_files too), and %s cannot be read on this machine: %v", p, ferr))
	}
	return dropPartialLine(text, off), "this machine's file", off == 0, nil
}

// readTail reads the last n bytes of the file at path, and the offset
// they start at.
func readTail(path string, n int64) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	off := max(st.Size()-n, 0)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", 0, err
	}
	var b strings.Builder
	sc := bufio.NewScanner(io.LimitReader(f, n))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), off, sc.Err()
}

// dropPartialLine drops the start of text up to its first newline when it
// was read from inside a file: that line's stamp was cut off.
func dropPartialLine(text string, off int64) string {
	if off == 0 {
		return text
	}
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[i+1:]
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// privilegeError is a log file left unread for want of a privilege.
type privilegeError string

func (e privilegeError) Error() string { return string(e) }

// denied says the server refused for want of a privilege.
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501"
}
