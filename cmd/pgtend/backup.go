package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"strconv"
	"time"

	"github.com/pgtend/pgtend/ops/backup"
	"github.com/pgtend/pgtend/ops/maint"
	"github.com/pgtend/pgtend/tui/text"
	"github.com/spf13/cobra"
)

// newBackupCmd is `pgtend backup`: the registry's backup action run at
// once (plan, progress, summary, history), and its list and restore check.
// It exists only when the registry has a backup action.
func newBackupCmd(a maint.Action) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "a pg_dump of the database, verified by reading it back whole, then rotation",
		Long: "Dumps the database with the server's own pg_dump (a client older than the server is refused) " +
			"into the policy's [backup] dir as <database>_<YYYYmmdd_HHMMSS>.<ext>: written under a temporary " +
			"name, read back whole (pg_restore --file=/dev/null, or every byte through gzip and pg_dump's closing " +
			"marker for plain SQL), given its SHA-256 sidecar and only then its name. A dump that fails is kept " +
			"aside as .failed; one cancelled (Ctrl+C) is removed. Then the rotation: the newest keep_daily verified " +
			"backups (and those younger than keep_days) stay, never the newest one, and nothing is deleted when the new " +
			"one failed. The password reaches pg_dump through a 0600 passfile, never its arguments. Recorded in the " +
			"history as the calendar's \"verify the backup\". Exit status: 0 ok, 1 failed or cancelled.",
		Args: noArgs,
	}
	c := addCommon(cmd)
	f := cmd.Flags()
	dir := f.String("dir", "", "the backup directory (default: the policy's [backup] dir)")
	format := f.String("format", "", "custom (pg_dump -Fc, the default), plain (.sql.gz) or directory (-Fd -j N)")
	jobs := f.Int("jobs", 0, "parallel pg_dump jobs of the directory format (default 2)")
	asJSON := f.Bool("json", false, "one JSON object a line, as `pgtend run --json`")
	_ = cmd.RegisterFlagCompletionFunc("dir", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	})
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]cobra.Completion{"custom", "plain", "directory"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("jobs", cobra.NoFileCompletions)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if _, err := backup.ParseFormat(*format); err != nil {
			return usageError("--format %s: use custom, plain or directory", *format)
		}
		if *jobs < 0 || *jobs > 64 {
			return usageError("--jobs %d: use 1 to 64", *jobs)
		}
		flags := maint.Flags{}
		if *dir != "" {
			flags["dir"] = *dir
		}
		if *format != "" {
			flags["format"] = *format
		}
		if *jobs > 0 {
			flags["jobs"] = strconv.Itoa(*jobs)
		}
		ctx, stdout := cmd.Context(), cmd.OutOrStdout()
		t, conn, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer closeConn(conn)
		p, err := a.Plan(maint.WithFlags(ctx, flags), conn, t.policy, "")
		if err != nil {
			return err
		}
		out := runOutput(textRun{stdout})
		if *asJSON {
			out = jsonRun{json.NewEncoder(stdout)}
		}
		out.plan(p)
		res, where, runErr, recErr := runAndRecord(ctx, t, p, t.maintOptions(c.readOnly), out.events(), openMemory(t))
		if errors.Is(runErr, maint.ErrReadOnly) {
			return runErr
		}
		out.result(p.Action, res, where, recErr)
		if runErr != nil {
			return runErr
		}
		if res.Outcome != maint.OutcomeOK {
			return &exitError{code: 1, err: fmt.Errorf("the backup did not finish cleanly: %s", res.Outcome)}
		}
		return nil
	}
	cmd.AddCommand(newBackupListCmd(), newBackupVerifyCmd())
	return cmd
}

// newBackupListCmd is `pgtend backup list`: the backup directory's
// backups, newest first. It reads files only: no database is needed.
func newBackupListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "the backups in the backup directory, newest first: size, age, format, verified, checksum",
		Args:  noArgs,
	}
	c := addCommon(cmd)
	dir := cmd.Flags().String("dir", "", "the backup directory (default: the policy's [backup] dir)")
	asJSON := cmd.Flags().Bool("json", false, "print JSON: {\"dir\", \"entries\": [{\"name\", \"path\", \"database\", \"created\", \"format\", \"bytes\", \"state\", \"checksum\", \"verified\", \"sha256\", \"database_bytes\", \"in_use\"}], \"other_files\"}")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		t, err := c.resolve()
		if err != nil {
			return err
		}
		d := *dir
		if d == "" {
			d = t.policy.Backup.Dir
		}
		if d == "" {
			return errors.New("the policy has no [backup] dir: give --dir")
		}
		l, err := backup.List(d)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(cmd.OutOrStdout(), l)
		}
		writeBackupList(cmd.OutOrStdout(), l, time.Now())
		return nil
	}
	return cmd
}

func writeBackupList(w io.Writer, l backup.Listing, now time.Time) {
	fmt.Fprintf(w, "Backups in %s\n", text.Clean(l.Dir))
	if len(l.Entries) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, e := range l.Entries {
		state := e.State
		if e.InUse {
			state += ", in use"
		}
		fmt.Fprintf(w, "  %-48s %10s  %-16s %-10s %-10s checksum %s\n", text.Clean(e.Name), text.BytesOf(e.Bytes),
			text.Ago(&e.Created, now), e.Format, state, e.Checksum)
	}
	if l.Other > 0 {
		fmt.Fprintf(w, "  and %s pgtend did not make (never rotated)\n", text.Plural(l.Other, "other file"))
	}
}

func checksumText(c backup.Checked) string {
	if c.SHA256 != "" {
		return c.SHA256
	}
	return strconv.Itoa(len(c.Files)) + " files, each in the sidecar"
}

// backupLister lists dir for the console's Disk pane; nil without one.
func backupLister(dir string) func(context.Context) (*backup.Listing, error) {
	if dir == "" {
		return nil
	}
	return func(context.Context) (*backup.Listing, error) {
		l, err := backup.List(dir)
		return &l, err
	}
}
