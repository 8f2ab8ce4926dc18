package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options tune a throwaway cluster.
type Options struct {
	// NoTimescale starts the cluster without preloading TimescaleDB even when
	// the extension is installed.
	NoTimescale bool
	// NoCron starts the cluster without preloading pg_cron even when the
	// extension is installed.
	NoCron bool
	// CronDatabase is pg_cron's cron.database_name: the one database that
	// keeps its jobs (CREATE EXTENSION pg_cron works there only); default
	// "postgres". It need not exist yet: pg_cron waits for it.
	CronDatabase string
	// Detach lets the server outlive pgtend (`pgtend demo --keep`); by
	// default it quits when pgtend dies, however pgtend dies.
	Detach bool
	// HBA lines are put before the default trust rules of pg_hba.conf (tests
	// use them to require a password from one role).
	HBA []string
	// Settings are extra postgresql.conf lines (`logging_collector = on`),
	// for a test that needs a server set up otherwise.
	Settings []string
}

// Cluster is a running throwaway PostgreSQL server listening only on a unix
// socket inside its own temporary directory.
type Cluster struct {
	Dir       string // temporary directory holding data/ and the socket
	BinDir    string
	Port      int
	Superuser string
	// Timescale reports whether timescaledb is preloaded (so CREATE EXTENSION
	// timescaledb works).
	Timescale bool
	// Cron reports whether pg_cron is preloaded, its jobs kept in
	// CronDatabase (cron.database_name) and run over the cluster's socket.
	Cron         bool
	CronDatabase string

	detach   bool
	owner    *os.File // the locked owner file (see abandoned.go); nil when detached
	cmd      *exec.Cmd
	exited   chan struct{}
	stopOnce sync.Once
	stopErr  error
}

const superuser = "pgtend"

// Start creates and starts a new cluster (sweeping first the directories
// of clusters whose pgtend was killed). Destroy shuts it down and removes
// its files; Stop only shuts it down.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	sweepAbandoned(os.TempDir())
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating cluster directory: %w", err)
	}
	c := &Cluster{Dir: dir, BinDir: bin, Port: 5432, Superuser: superuser, detach: opts.Detach}
	if !opts.Detach {
		if c.owner, err = claim(dir); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("creating cluster directory: %w", err)
		}
	}
	if err := c.init(ctx, opts.HBA, opts.Settings); err != nil {
		removeOwned(dir, c.owner)
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		removeOwned(dir, c.owner)
		return nil, err
	}
	if err := c.enablePreloads(ctx, opts); err != nil {
		c.Destroy()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// SocketDir is the directory holding the server's unix socket.
func (c *Cluster) SocketDir() string { return c.Dir }

// LogPath is the server's log file.
func (c *Cluster) LogPath() string { return filepath.Join(c.Dir, "server.log") }

// DSN returns a connection URL for the given database on this cluster.
func (c *Cluster) DSN(database string) string {
	q := url.Values{}
	q.Set("host", c.SocketDir())
	q.Set("port", strconv.Itoa(c.Port))
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", User: url.User(c.Superuser), Path: "/" + database, RawQuery: q.Encode()}).String()
}

// CreateDatabase creates an empty database and returns its DSN.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating database %q: %w", name, err)
	}
	return c.DSN(name), nil
}

func (c *Cluster) init(ctx context.Context, hba, settings []string) error {
	cred, err := serverCredential()
	if err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(c.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("handing %s to the server's user: %w", c.Dir, err)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"),
		"-D", c.dataDir(), "-U", superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil { // interrupted: initdb's half-done output tells nothing
			return fmt.Errorf("initdb interrupted: %w", ctx.Err())
		}
		return describe(cmd, out, err)
	}
	// Unix socket only: a throwaway cluster must never be reachable from the
	// network. fsync is off because the data is disposable.
	conf := strings.Join([]string{
		"listen_addresses = ''",
		"unix_socket_directories = '" + c.SocketDir() + "'",
		"port = " + strconv.Itoa(c.Port),
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"max_connections = 60",
		"shared_buffers = 128MB",
		"max_locks_per_transaction = 1024", // thousands of chunks in one statement
		"timescaledb.telemetry_level = off",
	}, "\n") + "\n" + strings.Join(append(settings, ""), "\n")
	if err := appendFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), conf); err != nil {
		return err
	}
	if len(hba) == 0 {
		return nil
	}
	path := filepath.Join(c.dataDir(), "pg_hba.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.Join(hba, "\n")+"\n"+string(old)), 0o600)
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *Cluster) start(ctx context.Context) error {
	cred, err := serverCredential()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(c.LogPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.BinDir, "postgres"), "-D", c.dataDir())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// Own process group; on Linux the server quits if pgtend is killed
	// (procattr_linux.go).
	cmd.SysProcAttr = serverProcAttr(cred, c.detach)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	logf.Close()
	c.cmd = cmd
	c.exited = make(chan struct{})
	c.stopOnce = sync.Once{}
	go func() { cmd.Wait(); close(c.exited) }()
	return c.waitReady(ctx)
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pctx, c.DSN("postgres"))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up; its log:\n%s", tail(c.LogPath(), 2000))
		case <-ctx.Done():
			c.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("postgres did not accept connections within 60s: %v", err)
		}
	}
}

// enablePreloads restarts the server with timescaledb and pg_cron
// preloaded, each when its files are installed (and not turned off).
// Detection asks the server itself (pg_available_extensions) so it holds
// whatever the packaging. pg_cron runs its jobs over the cluster's unix
// socket (cron.host), in CronDatabase.
func (c *Cluster) enablePreloads(ctx context.Context, opts Options) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	var timescale, cron bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),
		EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron')`).Scan(&timescale, &cron)
	conn.Close(ctx)
	if err != nil {
		return err
	}
	timescale, cron = timescale && !opts.NoTimescale, cron && !opts.NoCron
	if !timescale && !cron {
		return nil
	}
	cronDB := opts.CronDatabase
	if cronDB == "" {
		cronDB = "postgres"
	}
	if cron {
		settings := "cron.database_name = '" + strings.ReplaceAll(cronDB, "'", "''") + "'\n" +
			"cron.host = '" + c.SocketDir() + "'\n"
		if err := appendFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), settings); err != nil {
			return err
		}
	}
	// The extensions' files may be there while a library does not load
	// (TimescaleDB built for another server version): go on without it, as
	// if it were not installed, rather than fail.
	tries := [][2]bool{{timescale, cron}}
	for _, t := range [][2]bool{{timescale, false}, {false, cron}, {false, false}} {
		if !slices.Contains(tries, t) {
			tries = append(tries, t)
		}
	}
	for _, try := range tries {
		if err := c.Stop(); err != nil {
			return err
		}
		if err := c.removeSetting("shared_preload_libraries"); err != nil {
			return err
		}
		var libs []string
		if try[0] {
			libs = append(libs, "timescaledb")
		}
		if try[1] {
			libs = append(libs, "pg_cron")
		}
		if len(libs) > 0 {
			if err := appendFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), "shared_preload_libraries = '"+strings.Join(libs, ",")+"'\n"); err != nil {
				return err
			}
		}
		err := c.start(ctx)
		if err == nil {
			c.Timescale, c.Cron = try[0], try[1]
			if c.Cron {
				c.CronDatabase = cronDB
			}
			return nil
		}
		if len(libs) == 0 {
			return fmt.Errorf("restarting without preloaded libraries: %w", err)
		}
	}
	return nil
}

// removeSetting drops a line pgtend added to postgresql.auto.conf.
func (c *Cluster) removeSetting(name string) error {
	path := filepath.Join(c.dataDir(), "postgresql.auto.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), name) {
			keep = append(keep, line)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(keep, "\n")), 0o600)
}

// StopCommand is the shell command that stops a detached cluster and removes
// its files.
func (c *Cluster) StopCommand() string {
	// The directory is quoted for the shell: TMPDIR may hold a space.
	return fmt.Sprintf("kill -INT %d && sleep 2 && rm -rf '%s'", c.cmd.Process.Pid, strings.ReplaceAll(c.Dir, "'", `'\''`))
}

// Stop shuts the server down (fast shutdown) without removing its files.
func (c *Cluster) Stop() error {
	if c.cmd == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Signal(syscall.SIGQUIT)
			<-c.exited
			c.stopErr = errors.New("postgres did not stop within 30s; sent SIGQUIT")
		}
	})
	return c.stopErr
}

// Destroy stops the server and removes every file of the cluster.
func (c *Cluster) Destroy() error {
	err := c.Stop()
	if rmErr := removeOwned(c.Dir, c.owner); rmErr != nil && err == nil {
		err = rmErr
	}
	c.owner = nil
	return err
}

// serverCredential returns the user the server runs as: postgres refuses to
// run as root, so when we are root we hand it to the "postgres" account (or
// "nobody" when there is none).
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and no unprivileged account (postgres or nobody) exists for the server: create one or run pgtend as a normal user")
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
