package checklist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// logTail is how much of the end of the log file is read: a week of
// errors fits, a log flooded with statements is not read whole.
const logTail = 8 << 20

// maxLogLines is how many error lines are kept, the latest.
const maxLogLines = 200

// Logs is the server log's ERROR, FATAL and PANIC lines since a time.
type Logs struct {
	File     string    `json:"file"`     // the current log file, as the server names it
	Readable bool      `json:"readable"` // the lines were read
	Reason   string    `json:"reason"`   // why not, when not
	Via      string    `json:"via"`      // "pg_read_file", or "this machine's file"
	Since    time.Time `json:"since"`    // zero: the whole file read
	Lines    []string  `json:"lines"`    // the latest maxLogLines
	Total    int       `json:"total"`    // every matching line found
	Partial  bool      `json:"partial"`  // only the file's last logTail bytes were read
}

var severityRe = regexp.MustCompile(`\b(ERROR|FATAL|PANIC):  `)

// ReadLogs reads the server's current log file — through pg_read_file, or
// when the role may not, the file on this machine — and keeps its error
// lines since since. A log that cannot be read says why, it is no error.
func ReadLogs(ctx context.Context, conn *pgx.Conn, since time.Time) (*Logs, error) {
	l := &Logs{Since: since}
	var file *string
	if err := conn.QueryRow(ctx, `SELECT pg_current_logfile()`).Scan(&file); err != nil {
		if denied(err) {
			l.Reason = "this role may not ask for the server's log file (pg_current_logfile needs pg_monitor or superuser)"
			return l, nil
		}
		return nil, fmt.Errorf("asking for the log file: %w", err)
	}
	if file == nil {
		l.Reason = "the server writes no log file of its own (logging_collector is off): its log goes to its standard error, the journal or wherever it was started from"
		return l, nil
	}
	l.File = *file
	text, via, err := readLogFile(ctx, conn, *file)
	if err != nil {
		l.Reason = err.Error()
		return l, nil
	}
	l.Readable, l.Via, l.Partial = true, via, len(text) >= logTail
	l.Lines, l.Total = ErrorLines(text, since)
	return l, nil
}

// readLogFile reads the end of the log file through the server, else on
// this machine.
func readLogFile(ctx context.Context, conn *pgx.Conn, file string) (string, string, error) {
	var text string
	err := conn.QueryRow(ctx, `SELECT pg_read_file($1, greatest((pg_stat_file($1)).size - $2, 0), $2)`, file, int64(logTail)).Scan(&text)
	if err == nil {
		return text, "pg_read_file", nil
	}
	if !denied(err) {
		return "", "", fmt.Errorf("reading %s through the server: %v", file, err)
	}
	path := file
	if !filepath.IsAbs(path) {
		var dir *string
		_ = conn.QueryRow(ctx, `SELECT setting FROM pg_settings WHERE name = 'data_directory'`).Scan(&dir)
		if dir == nil {
			return "", "", errors.New("this role may not read server files (pg_read_file needs pg_read_server_files or superuser), nor learn the data directory the log is in")
		}
		path = filepath.Join(*dir, file)
	}
	b, ferr := readTail(path, logTail)
	if ferr != nil {
		return "", "", fmt.Errorf("this role may not read server files (pg_read_file needs pg_read_server_files or superuser), and %s cannot be read on this machine: %v", path, ferr)
	}
	return b, "this machine's file", nil
}

func readTail(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if off := st.Size() - n; off > 0 {
		if _, err := f.Seek(off, 0); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String(), sc.Err()
}

// logTimeLayouts are the stamps log_line_prefix's %m and %t write.
var logTimeLayouts = []string{"2006-01-02 15:04:05.000 MST", "2006-01-02 15:04:05 MST"}

// ErrorLines are the ERROR, FATAL and PANIC lines of a log's text at or
// after since (a line whose time cannot be read is kept: better shown
// twice than missed), the latest maxLogLines, and how many there were.
func ErrorLines(text string, since time.Time) ([]string, int) {
	var out []string
	total := 0
	for _, line := range strings.Split(text, "\n") {
		if !severityRe.MatchString(line) {
			continue
		}
		if at, ok := lineTime(line); ok && !since.IsZero() && at.Before(since) {
			continue
		}
		total++
		out = append(out, line)
		if len(out) > maxLogLines {
			out = out[1:]
		}
	}
	return out, total
}

func lineTime(line string) (time.Time, bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return time.Time{}, false
	}
	stamp := f[0] + " " + f[1] + " " + f[2]
	for _, layout := range logTimeLayouts {
		if t, err := time.Parse(layout, stamp); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// denied says the server refused for want of a privilege.
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501"
}
