package vault_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the Vault dev server die with the test binary, even
// when the test is killed before its cleanup runs.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
