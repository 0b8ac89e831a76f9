package vault_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
)

// fixedKey hands every session the same user and private key.
type fixedKey struct{ user, pem string }

func (f fixedKey) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.Credentials, error) {
	want.User, want.PrivateKey = f.user, f.pem
	return proxy.Credentials{Params: want}, nil
}

// TestKeyPairUpstream: with OpenParams.PrivateKey set, the gateway's
// gosnowflake upstream logs in with Snowflake's key-pair (JWT) login, for
// PKCS#8 and PKCS#1 keys; a key the user does not have is refused. No
// Vault here: the user is created directly in the stand-in.
func TestKeyPairUpstream(t *testing.T) {
	e := newStandinEnv(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.Exec(`CREATE USER KP_USER RSA_PUBLIC_KEY='` + base64.StdEncoding.EncodeToString(pub) + `' DEFAULT_ROLE=PUBLIC`); err != nil {
		t.Fatal(err)
	}
	if u := e.users(t, "KP_"); len(u) != 1 || !u[0].HasPublicKey || u[0].HasPassword {
		t.Fatalf("SHOW USERS on the stand-in = %+v; want KP_USER with a public key and no password", u)
	}
	if u := e.users(t, "ADMIN"); len(u) != 1 || !u[0].HasPassword || u[0].DefaultRole != "ACCOUNTADMIN" {
		t.Fatalf("SHOW USERS on the stand-in = %+v; want ADMIN with a password", u)
	}
	var name, login string
	if err := e.admin.QueryRow(`SHOW USERS LIKE 'kp%'`).Scan(&name, &login, new(any), new(any), new(any), new(any)); err != nil || name != "KP_USER" {
		t.Fatalf("SHOW USERS LIKE 'kp%%' = %q, %v; want KP_USER", name, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		pem     string
		wantErr bool
	}{
		{"pkcs8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})), false},
		{"pkcs1", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), false},
		{"wrong key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})), true},
		{"not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startGateway(t, e, fixedKey{user: "KP_USER", pem: tc.pem}, nil, nil)
			db, _ := clientDB(t, e, addr, "analyst")
			var n int
			err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n)
			if tc.wantErr {
				var se *sf.SnowflakeError
				if !errors.As(err, &se) {
					t.Fatalf("login with %s = %v; want a Snowflake error", tc.name, err)
				}
				return
			}
			if err != nil || n != 200 {
				t.Fatalf("key-pair session: %d, %v", n, err)
			}
		})
	}
}
