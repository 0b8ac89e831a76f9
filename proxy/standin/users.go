package standin

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
)

// users is the stand-in's registry of Snowflake users and role grants.
type users struct {
	db    *sql.DB
	table string // the schema holding USERS and GRANTS
}

type user struct {
	name, passwordHash, key1, key2, defaultRole string
	disabled                                    bool
}

var errNoUser = errors.New("no such user")

func (u *users) get(ctx context.Context, name string) (*user, error) {
	var x user
	var hash, k1, k2, role sql.NullString
	err := u.db.QueryRowContext(ctx, `SELECT NAME, PASSWORD_HASH, RSA_PUBLIC_KEY, RSA_PUBLIC_KEY_2, DEFAULT_ROLE, DISABLED FROM `+u.table+`.USERS WHERE NAME = ?`, name).
		Scan(&x.name, &hash, &k1, &k2, &role, &x.disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	}
	x.passwordHash, x.key1, x.key2, x.defaultRole = hash.String, k1.String, k2.String, role.String
	return &x, nil
}

// Authenticate implements proxy.Authenticator for the stand-in's own users:
// password (SNOWFLAKE) and key-pair (SNOWFLAKE_JWT) logins.
func (s *Standin) Authenticate(ctx context.Context, c proxy.LoginCredentials) (*proxy.Principal, error) {
	var name string
	switch c.Method {
	case "SNOWFLAKE", "USERNAME_PASSWORD_MFA":
		name = strings.ToUpper(c.LoginName)
		u, err := s.users.get(ctx, name)
		if err != nil || u.disabled || !checkPassword(u.passwordHash, c.Password) {
			return nil, &proxy.Error{Code: proxy.CodeBadCredentials, SQLState: "28000", Message: "Incorrect username or password was specified.", Err: err}
		}
	case "SNOWFLAKE_JWT":
		var err error
		name, err = s.verifyKeyPair(ctx, c.Token)
		if err != nil {
			return nil, &proxy.Error{Code: "390144", SQLState: "28000", Message: "JWT token is invalid.", Err: err}
		}
	default:
		return nil, fmt.Errorf("%w: the stand-in accepts SNOWFLAKE and SNOWFLAKE_JWT, not %s", proxy.ErrUnsupportedMethod, c.Method)
	}
	u, err := s.users.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return &proxy.Principal{
		Identity: engine.Identity{Subject: name, Name: name, Issuer: "standin"},
		Upstream: proxy.OpenParams{User: name, Role: u.defaultRole},
	}, nil
}

// verifyKeyPair checks a key-pair login token: RS256, signed by one of the
// user's registered keys, issued as ACCOUNT.USER.SHA256:fingerprint.
func (s *Standin) verifyKeyPair(ctx context.Context, token string) (string, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", fmt.Errorf("parse key-pair token: %w", err)
	}
	var claims jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return "", fmt.Errorf("read key-pair token: %w", err)
	}
	parts := strings.Split(claims.Subject, ".")
	if len(parts) != 2 {
		return "", errors.New("key-pair token subject is not ACCOUNT.USER")
	}
	name := strings.ToUpper(parts[1])
	u, err := s.users.get(ctx, name)
	if err != nil {
		return "", err
	}
	if u.disabled {
		return "", errors.New("user disabled")
	}
	for _, k := range []string{u.key1, u.key2} {
		pub, fp, err := parsePublicKey(k)
		if err != nil {
			continue
		}
		if !strings.HasSuffix(claims.Issuer, ".SHA256:"+fp) {
			continue
		}
		if err := tok.Claims(pub, &claims); err != nil {
			continue
		}
		if err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, time.Minute); err != nil {
			return "", fmt.Errorf("key-pair token: %w", err)
		}
		return name, nil
	}
	return "", errors.New("key-pair token not signed by a registered key")
}

// parsePublicKey reads a key as Snowflake stores it: base64 DER, with or
// without PEM armour. It also returns Snowflake's fingerprint of it.
func parsePublicKey(s string) (*rsa.PublicKey, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, "", errors.New("no key")
	}
	s = strings.NewReplacer("-----BEGIN PUBLIC KEY-----", "", "-----END PUBLIC KEY-----", "", "\n", "", "\r", "", " ", "").Replace(s)
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "", fmt.Errorf("decode key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, "", fmt.Errorf("parse key: %w", err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, "", errors.New("not an RSA key")
	}
	sum := sha256.Sum256(der)
	return pub, base64.StdEncoding.EncodeToString(sum[:]), nil
}

const pbkdf2Rounds = 4096

func hashPassword(pw string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, _ := pbkdf2.Key(sha256.New, pw, salt, pbkdf2Rounds, 32)
	return hex.EncodeToString(salt) + ":" + hex.EncodeToString(key)
}

func checkPassword(stored, pw string) bool {
	salt, want, ok := strings.Cut(stored, ":")
	if !ok || pw == "" {
		return false
	}
	s, err1 := hex.DecodeString(salt)
	w, err2 := hex.DecodeString(want)
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pw, s, pbkdf2Rounds, len(w))
	return err == nil && subtle.ConstantTimeCompare(got, w) == 1
}

// userProps are the properties of CREATE/ALTER USER the stand-in keeps;
// others (DAYS_TO_EXPIRY, COMMENT, ...) are accepted and ignored.
type userProps map[string]*string

func (u *users) create(ctx context.Context, name string, props userProps, orReplace, ifNotExists bool) error {
	if _, err := u.get(ctx, name); err == nil {
		switch {
		case ifNotExists:
			return nil
		case orReplace:
			if err := u.drop(ctx, name, true); err != nil {
				return err
			}
		default:
			return sqlError("002002", "42710", fmt.Sprintf("SQL compilation error:\nObject '%s' already exists.", name))
		}
	}
	if _, err := u.db.ExecContext(ctx, `INSERT INTO `+u.table+`.USERS (NAME) VALUES (?)`, name); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return u.set(ctx, name, props)
}

func (u *users) set(ctx context.Context, name string, props userProps) error {
	if _, err := u.get(ctx, name); err != nil {
		return sqlError("002003", "02000", fmt.Sprintf("SQL compilation error:\nUser '%s' does not exist or not authorized.", name))
	}
	cols := map[string]string{"PASSWORD": "PASSWORD_HASH", "RSA_PUBLIC_KEY": "RSA_PUBLIC_KEY", "RSA_PUBLIC_KEY_2": "RSA_PUBLIC_KEY_2", "DEFAULT_ROLE": "DEFAULT_ROLE", "DISABLED": "DISABLED"}
	for k, v := range props {
		col, ok := cols[k]
		if !ok {
			continue
		}
		var val any
		if v != nil {
			val = *v
			switch k {
			case "PASSWORD":
				val = hashPassword(*v)
			case "DEFAULT_ROLE":
				val = strings.ToUpper(*v)
			case "DISABLED":
				val = strings.EqualFold(*v, "TRUE")
			}
		}
		if _, err := u.db.ExecContext(ctx, `UPDATE `+u.table+`.USERS SET `+col+` = ? WHERE NAME = ?`, val, name); err != nil {
			return fmt.Errorf("alter user: %w", err)
		}
	}
	return nil
}

func (u *users) drop(ctx context.Context, name string, ifExists bool) error {
	res, err := u.db.ExecContext(ctx, `DELETE FROM `+u.table+`.USERS WHERE NAME = ?`, name)
	if err != nil {
		return fmt.Errorf("drop user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 && !ifExists {
		return sqlError("002003", "02000", fmt.Sprintf("SQL compilation error:\nUser '%s' does not exist or not authorized.", name))
	}
	_, err = u.db.ExecContext(ctx, `DELETE FROM `+u.table+`.GRANTS WHERE GRANTEE = ?`, name)
	return err
}

func (u *users) grant(ctx context.Context, role, grantee string, revoke bool) error {
	q := `INSERT OR IGNORE INTO ` + u.table + `.GRANTS VALUES (?, ?)`
	if revoke {
		q = `DELETE FROM ` + u.table + `.GRANTS WHERE ROLE = ? AND GRANTEE = ?`
	}
	_, err := u.db.ExecContext(ctx, q, role, grantee)
	return err
}

func (u *users) hasRole(ctx context.Context, name, role string) bool {
	if role == "PUBLIC" {
		return true
	}
	x, err := u.get(ctx, name)
	if err == nil && x.defaultRole == role {
		return true
	}
	var n int
	_ = u.db.QueryRowContext(ctx, `SELECT count(*) FROM `+u.table+`.GRANTS WHERE ROLE = ? AND GRANTEE = ?`, role, name).Scan(&n)
	return n > 0
}

// sqlErr is a SQL error with Snowflake's code, as the stand-in reports it.
type sqlErr struct{ code, state, msg string }

func (e *sqlErr) Error() string { return e.msg }

// SnowflakeCode lets the gateway pass the code on to the client.
func (e *sqlErr) SnowflakeCode() (string, string, string) { return e.code, e.state, e.msg }

func sqlError(code, state, msg string) error { return &sqlErr{code, state, msg} }

// EnsureAdmin creates (or resets the password of) an administrative user
// that can log in with a password, for Vault's plugin and for tests.
func (s *Standin) EnsureAdmin(ctx context.Context, name, password string) error {
	pw, role := password, "ACCOUNTADMIN"
	props := userProps{"PASSWORD": &pw, "DEFAULT_ROLE": &role}
	if _, err := s.users.get(ctx, name); err == nil {
		return s.users.set(ctx, name, props)
	}
	return s.users.create(ctx, name, props, false, false)
}
