package main

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// The weekly and monthly runs for hosts whose database has no job engine
// pgtend can hand them to (`pgtend plan schedule` says which): the .deb's
// and .rpm's own systemd units, the very files in packaging/, and crontab
// lines made from them (same commands, same times), logging to the journal.

//go:embed packaging/pgtend-weekly.service packaging/pgtend-weekly.timer packaging/pgtend-monthly.service packaging/pgtend-monthly.timer packaging/pgtend.toml packaging/pgtend.env
var packaging embed.FS

// The packages' paths, which the units name.
const (
	packagedBinary = "/usr/bin/pgtend"
	packagedConfig = "/etc/pgtend/pgtend.toml"
	packagedEnv    = "/etc/pgtend/pgtend.env"
	packagedUnits  = "/usr/lib/systemd/system"
)

// unitNames are the units, in the order they are shown and written.
var unitNames = []string{"pgtend-weekly.service", "pgtend-weekly.timer", "pgtend-monthly.service", "pgtend-monthly.timer"}

// scheduleFile is one file `schedule install` writes.
type scheduleFile struct {
	path string // absolute, as on the host
	mode os.FileMode
	body []byte
	// keep: write only when missing (configuration: the operator's once
	// there); units must be pgtend's exactly or are refused.
	keep bool
}

// unitFiles are the units as the package has them, their ExecStart running
// binary instead of /usr/bin/pgtend when that differs.
func unitFiles(dir, binary string) ([]scheduleFile, error) {
	var out []scheduleFile
	for _, n := range unitNames {
		b, err := packaging.ReadFile("packaging/" + n)
		if err != nil {
			return nil, err
		}
		if binary != packagedBinary {
			b = bytes.ReplaceAll(b, []byte("ExecStart="+packagedBinary+" "), []byte("ExecStart="+binary+" "))
		}
		out = append(out, scheduleFile{path: filepath.Join(dir, n), mode: 0o644, body: b})
	}
	return out, nil
}

// defaultBinary is /usr/bin/pgtend when it is there (the package's), else
// this very binary.
func defaultBinary() string {
	if fi, err := os.Stat(packagedBinary); err == nil && !fi.IsDir() {
		return packagedBinary
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			return real
		}
		return exe
	}
	return packagedBinary
}

func newScheduleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "the packaged timers' maintenance runs as crontab lines or systemd units, for hosts without a job engine",
		Long: "pgtend hands recurring maintenance to the database's own job engines (`pgtend plan schedule`: TimescaleDB's " +
			"policies, pg_cron). What they cannot take — or everything, without them — is `pgtend run weekly` and " +
			"`pgtend run monthly --yes` from cron or systemd: `schedule print` prints both, `schedule install --systemd` " +
			"writes the units (the same as the .deb's and .rpm's), installed disabled.",
		Args: noArgs,
	}
	cmd.AddCommand(newSchedulePrintCmd(), newScheduleInstallCmd())
	return cmd
}

// scheduleFlags are print's and install's.
type scheduleFlags struct {
	binary string
}

func addScheduleFlags(cmd *cobra.Command) *scheduleFlags {
	f := &scheduleFlags{}
	cmd.Flags().StringVar(&f.binary, "binary", "", "the pgtend the units and lines run (default: "+packagedBinary+" when it exists, else this binary)")
	_ = cmd.RegisterFlagCompletionFunc("binary", cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault))
	return f
}

func (f *scheduleFlags) bin() (string, error) {
	if f.binary == "" {
		return defaultBinary(), nil
	}
	if !filepath.IsAbs(f.binary) {
		return "", usageError("--binary %s: give an absolute path (cron and systemd run with no PATH of yours)", f.binary)
	}
	return f.binary, nil
}

func newSchedulePrintCmd() *cobra.Command {
	var crontab, systemd bool
	cmd := &cobra.Command{
		Use:   "print",
		Short: "print crontab lines and the systemd units for the weekly and monthly runs",
		Long: "Prints, for `pgtend run weekly` (Sundays at 03:00) and `pgtend run monthly --yes` (the first Saturday of " +
			"the month at 03:00): crontab lines for the postgres user, their output to the journal (logger), and the " +
			"systemd service and timer pairs the packages install. Neither flag: both.",
		Args: noArgs,
	}
	sf := addScheduleFlags(cmd)
	cmd.Flags().BoolVar(&crontab, "crontab", false, "only the crontab lines")
	cmd.Flags().BoolVar(&systemd, "systemd", false, "only the systemd units")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		bin, err := sf.bin()
		if err != nil {
			return err
		}
		if !crontab && !systemd {
			crontab, systemd = true, true
		}
		w := cmd.OutOrStdout()
		units, err := unitFiles("/etc/systemd/system", bin)
		if err != nil {
			return err
		}
		if crontab {
			lines, err := crontabLines(units)
			if err != nil {
				return err
			}
			fmt.Fprint(w, lines)
		}
		if crontab && systemd {
			fmt.Fprintln(w)
		}
		if systemd {
			fmt.Fprintf(w, "# systemd units (`sudo pgtend schedule install --systemd` writes them to /etc/systemd/system; the packages install them in %s)\n", packagedUnits)
			for _, u := range units {
				fmt.Fprintf(w, "\n# ---- %s\n%s", u.path, u.body)
			}
		}
		return nil
	}
	return cmd
}

// crontabLines are the units as the postgres user's crontab: each timer's
// time as the five fields, its service's command (the environment file
// read when it can be), the output to the journal.
func crontabLines(units []scheduleFile) (string, error) {
	body := map[string]string{}
	for _, u := range units {
		body[filepath.Base(u.path)] = string(u.body)
	}
	var b strings.Builder
	b.WriteString("# pgtend's weekly and monthly maintenance for the postgres user's crontab (sudo crontab -u postgres -e).\n" +
		"# Each line runs what the systemd unit of the same name runs, at the same time, its output to the\n" +
		"# journal (journalctl -t pgtend-weekly). The database: " + packagedEnv + " when postgres may read it\n" +
		"# (the packages make it root's only), else set PGDATABASE=... (any libpq variable) above the lines.\n" +
		"# The monthly line runs on days 1-7 and goes on only on the Saturday (cron would take Saturdays OR those days).\n" +
		"# Cron reads % as a line break: the lines escape it (\\%).\n")
	for _, name := range []string{"weekly", "monthly"} {
		exec := unitValue(body["pgtend-"+name+".service"], "ExecStart")
		when := unitValue(body["pgtend-"+name+".timer"], "OnCalendar")
		if exec == "" || when == "" {
			return "", fmt.Errorf("pgtend-%s's units have no ExecStart or OnCalendar", name)
		}
		fields, test, err := cronOf(when)
		if err != nil {
			return "", fmt.Errorf("pgtend-%s.timer: %w", name, err)
		}
		// The environment file is systemd's (VAR=value, spaces and all):
		// read a line at a time and exported whole, not sourced.
		env := fmt.Sprintf(`[ -r %s ] && while IFS= read -r l; do case "$l" in ''|\#*) ;; *) export "$l";; esac; done < %s; `, packagedEnv, packagedEnv)
		fmt.Fprintf(&b, "%s %s%s%s 2>&1 | logger -t pgtend-%s\n", fields, test, env, strings.ReplaceAll(exec, "%", `\%`), name)
	}
	return b.String(), nil
}

// unitValue is the value of key in a unit file's text ("" when absent).
func unitValue(unit, key string) string {
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), key+"="); ok && v != "" {
			return v
		}
	}
	return ""
}

var onCalendar = regexp.MustCompile(`^(?:([A-Za-z]{3}(?:[.,][.]?[A-Za-z]{3})*) )?\*-\*-(\*|\d{1,2}(?:\.\.\d{1,2})?) (\d{1,2}):(\d{2})(?::00)?$`)

var weekdays = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// cronOf turns a timer's OnCalendar (the forms the units use: "Sun
// *-*-* 03:00:00", "Sat *-*-01..07 03:00:00") into cron's five fields. Cron
// runs a line when the day of the month OR the day of the week matches, so
// a weekday within days of the month becomes a test before the command.
func cronOf(spec string) (fields, test string, err error) {
	m := onCalendar.FindStringSubmatch(strings.TrimSpace(spec))
	if m == nil {
		return "", "", fmt.Errorf("OnCalendar=%s: not a form pgtend turns into cron fields", spec)
	}
	dow := "*"
	if m[1] != "" {
		var days []string
		for _, part := range strings.Split(strings.ToLower(m[1]), ",") {
			a, b, isRange := strings.Cut(part, "..")
			from, ok1 := weekdays[a]
			to, ok2 := weekdays[b]
			switch {
			case !ok1 || (isRange && !ok2):
				return "", "", fmt.Errorf("OnCalendar=%s: unknown weekday %q", spec, part)
			case isRange:
				days = append(days, fmt.Sprintf("%d-%d", from, to))
			default:
				days = append(days, fmt.Sprint(from))
			}
		}
		dow = strings.Join(days, ",")
	}
	dom := "*"
	if m[2] == "*" {
		dom = "*"
	} else {
		a, b, _ := strings.Cut(m[2], "..")
		dom = strings.TrimLeft(a, "0")
		if b != "" {
			dom += "-" + strings.TrimLeft(b, "0")
		}
	}
	minute, hour := strings.TrimLeft(m[4], "0"), strings.TrimLeft(m[3], "0")
	if minute == "" {
		minute = "0"
	}
	if hour == "" {
		hour = "0"
	}
	if dom != "*" && dow != "*" {
		// date +%w: 0 is Sunday, as cron's.
		return fmt.Sprintf("%s %s %s * *", minute, hour, dom), fmt.Sprintf(`[ "$(date +\%%w)" = %s ] || exit 0; `, dow), nil
	}
	return fmt.Sprintf("%s %s %s * %s", minute, hour, dom, dow), "", nil
}

func newScheduleInstallCmd() *cobra.Command {
	var systemd, yes bool
	var root string
	cmd := &cobra.Command{
		Use:   "install --systemd",
		Short: "write the systemd units for the weekly and monthly runs (as root; shown and confirmed first)",
		Long: "Writes pgtend-weekly.service/.timer and pgtend-monthly.service/.timer to /etc/systemd/system — the units " +
			"the .deb and .rpm install — and, when missing, " + packagedConfig + " (the built-in policy, commented) and " +
			packagedEnv + " (mode 0600). It shows every file first and asks (--yes: no question). It needs root, never " +
			"overwrites a file that differs from pgtend's (an edited unit is yours: `systemctl edit` changes it), and " +
			"leaves the timers disabled: `systemctl enable --now pgtend-weekly.timer pgtend-monthly.timer`.",
		Args: noArgs,
	}
	sf := addScheduleFlags(cmd)
	cmd.Flags().BoolVar(&systemd, "systemd", false, "write the systemd units (the only kind install writes: crontab lines are `schedule print --crontab`)")
	cmd.Flags().BoolVar(&yes, "yes", false, "write without asking")
	cmd.Flags().StringVar(&root, "root", "/", "write under this directory instead of / (a staging tree; no root needed)")
	_ = cmd.Flags().MarkHidden("root")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !systemd {
			return usageError("schedule install writes systemd units: say --systemd (crontab lines: `pgtend schedule print --crontab`)")
		}
		bin, err := sf.bin()
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		at := func(p string) string { return filepath.Join(root, p) }
		if root == "/" && os.Geteuid() != 0 {
			return &exitError{code: 1, err: errors.New("schedule install --systemd writes /etc/systemd/system and /etc/pgtend: run it as root (sudo pgtend schedule install --systemd); " +
				"`pgtend schedule print --systemd` shows the files")}
		}
		if _, err := os.Stat(at(filepath.Join(packagedUnits, "pgtend-monthly.timer"))); err == nil {
			fmt.Fprintf(w, "the pgtend package installed these units already (%s): nothing written. Enable them:\n  systemctl enable --now pgtend-weekly.timer pgtend-monthly.timer\n", packagedUnits)
			return nil
		}
		files, err := unitFiles(at("/etc/systemd/system"), bin)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			name, path string
			mode       os.FileMode
		}{{"pgtend.toml", packagedConfig, 0o644}, {"pgtend.env", packagedEnv, 0o600}} {
			b, err := packaging.ReadFile("packaging/" + c.name)
			if err != nil {
				return err
			}
			files = append(files, scheduleFile{path: at(c.path), mode: c.mode, body: b, keep: true})
		}
		var write []scheduleFile
		var refused []string
		for _, f := range files {
			old, err := os.ReadFile(f.path)
			switch {
			case errors.Is(err, os.ErrNotExist):
				write = append(write, f)
			case err != nil:
				return err
			case bytes.Equal(old, f.body):
				fmt.Fprintf(w, "%s: there already, unchanged\n", f.path)
			case f.keep:
				fmt.Fprintf(w, "%s: there already (yours): kept\n", f.path)
			default:
				refused = append(refused, f.path)
			}
		}
		if len(refused) > 0 {
			return &exitError{code: 1, err: fmt.Errorf("%s differ from pgtend's units (edited?): nothing written; compare with `pgtend schedule print --systemd`, "+
				"remove them to have pgtend's, or change them with `systemctl edit`", strings.Join(refused, ", "))}
		}
		if len(write) == 0 {
			fmt.Fprintln(w, "nothing to write")
			return nil
		}
		for _, f := range write {
			fmt.Fprintf(w, "\n# ---- %s (mode %04o)\n%s", f.path, f.mode, f.body)
		}
		fmt.Fprintln(w)
		if !yes {
			ok, err := confirm(cmd.InOrStdin(), w, fmt.Sprintf("write these %d files? [y/N] ", len(write)))
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{code: 2, err: errors.New("nothing written")}
			}
		}
		for _, f := range write {
			if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
				return err
			}
			// O_EXCL: a file that appeared since it was read is not overwritten.
			out, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
			if err != nil {
				return err
			}
			if _, err := out.Write(f.body); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s\n", f.path)
		}
		fmt.Fprintf(w, "installed disabled. See what the monthly run would do, then enable them:\n"+
			"  sudo -u postgres %s plan monthly --config %s\n"+
			"  systemctl daemon-reload && systemctl enable --now pgtend-weekly.timer pgtend-monthly.timer\n"+
			"  systemctl list-timers 'pgtend-*'; journalctl -u pgtend-monthly\n", bin, packagedConfig)
		return nil
	}
	return cmd
}

// confirm asks a yes/no question on in: only "y" or "yes" is yes. Without a
// terminal to ask on, it refuses: say --yes.
func confirm(in io.Reader, w io.Writer, question string) (bool, error) {
	if f, ok := in.(*os.File); !ok || !isTerminal(f) {
		return false, &exitError{code: 2, err: errors.New("nobody to ask (no terminal): nothing written; run again with --yes to write them")}
	}
	fmt.Fprint(w, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
