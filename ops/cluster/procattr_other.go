//go:build !linux

package cluster

import "syscall"

// serverProcAttr starts the server as cred in its own process group, as on
// Linux. There is no Pdeathsig here (macOS): a server whose pgtend was
// killed outright (SIGKILL) keeps running, and its directory is not swept
// while it does; stop it with pg_ctl.
func serverProcAttr(cred *syscall.Credential, _ bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
