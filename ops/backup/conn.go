package backup

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Conn is how pg_dump, pg_restore and psql reach the database: the
// connection string without its password (--dbname), the resolved host,
// port, user and database in libpq's environment, and the password — never
// in argv, where every user of the machine can read it in the process list
// — in a passfile of mode 0600 that lives as long as the program runs.
type Conn struct {
	dbname   string // --dbname=…, "" for none
	env      []string
	password string
	Database string
}

// ConnOf takes what pgx connected with (its ConnString and the values it
// resolved, the password from the string, PGPASSWORD or ~/.pgpass).
func ConnOf(cfg *pgx.ConnConfig) Conn {
	c := Conn{Database: cfg.Database, password: cfg.Password}
	if cfg.Host != "" {
		c.env = append(c.env, "PGHOST="+cfg.Host)
	}
	if cfg.Port != 0 {
		c.env = append(c.env, "PGPORT="+strconv.Itoa(int(cfg.Port)))
	}
	if cfg.User != "" {
		c.env = append(c.env, "PGUSER="+cfg.User)
	}
	if cfg.Database != "" {
		c.env = append(c.env, "PGDATABASE="+cfg.Database)
	}
	if cfg.TLSConfig == nil && len(cfg.Fallbacks) == 0 {
		c.env = append(c.env, "PGSSLMODE=disable")
	}
	c.dbname = withoutPassword(cfg.ConnString())
	if cfg.Database != "" && c.dbname != "" {
		// The database pgx resolved wins over the string's: a config copied
		// for another database (a scratch one) must not reach the original.
		c = c.WithDatabase(cfg.Database)
	}
	return c
}

// WithDatabase is the same server and role, another database.
func (c Conn) WithDatabase(db string) Conn {
	out := c
	out.Database = db
	out.env = append(append([]string(nil), c.env...), "PGDATABASE="+db)
	if out.dbname != "" {
		out.dbname += " dbname=" + quoteValue(db)
		if strings.Contains(c.dbname, "://") {
			out.dbname = setURLDatabase(c.dbname, db)
		}
	}
	return out
}

func setURLDatabase(s, db string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.Path = "/" + db
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", db)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Args are the connection arguments to give the program: none, or
// --dbname with the password-less connection string.
func (c Conn) Args() []string {
	if c.dbname == "" {
		return nil
	}
	return []string{"--dbname=" + c.dbname}
}

// Command is command for client programs of other packages (pg_repack).
func (c Conn) Command(ctx context.Context, path string, args ...string) (cmd *exec.Cmd, done func(), err error) {
	return c.command(ctx, path, args...)
}

// command makes the exec.Cmd of a client program with the connection in
// its environment; done removes the passfile. The program gets a process
// group of its own, killed whole when ctx ends (pg_dump -j forks workers).
func (c Conn) command(ctx context.Context, path string, args ...string) (cmd *exec.Cmd, done func(), err error) {
	env := make([]string, 0, len(os.Environ())+len(c.env)+2)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PGPASSWORD", "PGPASSFILE", "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, c.env...)
	done = func() {}
	if c.password != "" {
		f, err := os.CreateTemp("", "pgtend-pgpass-*")
		if err != nil {
			return nil, nil, fmt.Errorf("writing the temporary passfile: %w", err)
		}
		name := f.Name()
		done = func() { os.Remove(name) }
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			done()
			return nil, nil, err
		}
		if _, err := f.WriteString("*:*:*:*:" + passfileEscape(c.password) + "\n"); err != nil {
			f.Close()
			done()
			return nil, nil, err
		}
		if err := f.Close(); err != nil {
			done()
			return nil, nil, err
		}
		env = append(env, "PGPASSFILE="+name)
	}
	cmd = exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd, done, nil
}

func passfileEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// withoutPassword removes the password (and sslpassword) from a libpq
// connection string, URL or key=value pairs; "" stays "".
func withoutPassword(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return "" // pgx parsed it; the environment carries the essentials
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		q := u.Query()
		q.Del("password")
		q.Del("sslpassword")
		u.RawQuery = q.Encode()
		return u.String()
	}
	pairs, ok := parsePairs(s)
	if !ok {
		return ""
	}
	var out []string
	for _, kv := range pairs {
		if kv[0] == "password" || kv[0] == "sslpassword" {
			continue
		}
		out = append(out, kv[0]+"="+quoteValue(kv[1]))
	}
	return strings.Join(out, " ")
}

// parsePairs reads key=value pairs as libpq does: values bare or in single
// quotes, with backslash escapes.
func parsePairs(s string) ([][2]string, bool) {
	var out [][2]string
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out, true
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, false
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, false
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		out = append(out, [2]string{key, val.String()})
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func quoteValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
