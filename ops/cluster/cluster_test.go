package cluster

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartConnectDestroy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := c.CreateDatabase(ctx, "Mixed Case")
	if err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	var listen, db string
	if err := conn.QueryRow(ctx, "SELECT current_setting('listen_addresses'), current_database()").Scan(&listen, &db); err != nil {
		t.Fatal(err)
	}
	if listen != "" {
		t.Errorf("listen_addresses = %q, want unix socket only", listen)
	}
	if db != "Mixed Case" {
		t.Errorf("database = %q", db)
	}
	if c.Timescale {
		if _, err := conn.Exec(ctx, "CREATE EXTENSION timescaledb"); err != nil {
			t.Errorf("timescaledb reported preloaded but CREATE EXTENSION failed: %v", err)
		}
	} else {
		t.Log("TIMESCALEDB NOT INSTALLED: cluster runs without it")
	}
	conn.Close(ctx)
	if pid, ok := readPID(filepath.Join(c.Dir, ownerFile)); !ok || pid != os.Getpid() {
		t.Errorf("the cluster's directory names owner %d (%v), want this process %d", pid, ok, os.Getpid())
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s still exists after Destroy", c.Dir)
	}
}

func TestMissingBinariesNameWhatToInstall(t *testing.T) {
	t.Setenv(BinDirEnv, t.TempDir())
	_, err := Start(context.Background(), Options{})
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	if want := "apt-get install -y postgresql"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// The stop command printed for `demo --keep` names the directory safely
// for the shell, whatever TMPDIR holds.
func TestStopCommandQuotesTheDirectory(t *testing.T) {
	dir := "/tmp/odd dir's $HOME"
	c := &Cluster{Dir: dir, cmd: &exec.Cmd{Process: &os.Process{Pid: 4242}}}
	cmd := c.StopCommand()
	quoted := strings.TrimPrefix(cmd, "kill -INT 4242 && sleep 2 && rm -rf ")
	out, err := exec.Command("sh", "-c", "printf %s "+quoted).Output()
	if err != nil || string(out) != dir {
		t.Errorf("%q names %q to the shell (%v), want %q", cmd, out, err, dir)
	}
}

// Options.Settings reach postgresql.auto.conf quoted, whatever the value;
// a name that is not a setting's, or a value on two lines, is refused.
func TestSettingLinesQuoteAndRefuse(t *testing.T) {
	got, err := settingLines(map[string]string{"log_directory": "log", "archive_command": `test ! -f '/a\b'`})
	if want := "archive_command = 'test ! -f ''/a\\\\b'''\nlog_directory = 'log'\n"; err != nil || got != want {
		t.Errorf("settingLines = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []map[string]string{{"x = 1\nfsync": "on"}, {"": "on"}, {"log_directory": "a\nfsync = on"}} {
		if _, err := settingLines(bad); err == nil {
			t.Errorf("settingLines(%q) accepted", bad)
		}
	}
}
