// Command vault is HashiCorp Vault built from its Go module, pinned in this
// directory's go.mod, so that tests can run a real `vault server -dev` with
// the built-in snowflake-database-plugin without bloating snowgate's go.mod.
// .ci/build-vault.sh builds it into a cache outside the repository.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
