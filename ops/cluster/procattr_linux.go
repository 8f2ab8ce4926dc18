package cluster

import "syscall"

// serverProcAttr starts the server as cred in its own process group, so a
// Ctrl+C in the terminal reaches pgtend (which then stops the server
// cleanly) rather than killing the server under it. Pdeathsig makes the
// server quit if pgtend itself is killed, unless the cluster is detached.
func serverProcAttr(cred *syscall.Credential, detach bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if !detach {
		a.Pdeathsig = syscall.SIGQUIT
	}
	return a
}
