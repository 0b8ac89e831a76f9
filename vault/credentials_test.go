package vault

import (
	"fmt"
	"testing"
)

// TestCredentials_hideSecrets: credentials logged or printed by mistake
// show no secret.
func TestCredentials_hideSecrets(t *testing.T) {
	c := credentials{user: "U", password: "pw-secret-1", privateKey: "-----BEGIN PRIVATE KEY-----", leaseID: "l"}
	log, buf := debugLogger()
	log.Info("x", "creds", c)
	assertNoSecrets(t, fakeSecrets, buf.String(), c.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoSecrets(t, fakeSecrets, fmt.Sprintf(verb, c))
	}
}

// TestAuth_hideSecrets: auth settings printed or logged show no secret.
func TestAuth_hideSecrets(t *testing.T) {
	log, buf := debugLogger()
	for _, a := range []Auth{Token{Token: "root-token-xyz"}, AppRole{RoleID: "r", SecretID: "gw-secret-abc"}, Config{Auth: Token{Token: "root-token-xyz"}}.Auth} {
		log.Info("auth", "auth", a)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assertNoSecrets(t, fakeSecrets, fmt.Sprintf(verb, a))
		}
	}
	cfg := Config{Address: "http://x", Auth: AppRole{RoleID: "r", SecretID: "gw-secret-abc"}}
	log.Info("config", "cfg", cfg)
	assertNoSecrets(t, fakeSecrets, buf.String(), fmt.Sprintf("%+v", cfg))
}
