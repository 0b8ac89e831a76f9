package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Checkpoint commits to a replica's chain up to Seq: whoever holds the
// signing key vouches that the record at Seq had Hash. A chain that ends
// before a checkpoint's Seq lost its tail; a chain whose record at Seq has
// another hash was rewritten. Records after the last checkpoint are covered
// only by the hash chain (see Report.Unanchored).
type Checkpoint struct {
	Replica   string    `json:"replica"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`                 // when it was made, UTC to the microsecond
	PublicKey string    `json:"public_key,omitempty"` // base64 Ed25519 public key; empty when unsigned
	Signature string    `json:"signature,omitempty"`  // base64 Ed25519 signature of SigningMessage
}

// signingDomain separates checkpoint signatures from anything else the key
// might sign.
const signingDomain = "snowgate-audit-checkpoint-v1"

// SigningMessage is what a checkpoint's signature covers: the domain,
// replica, seq, hash and time, NUL-separated.
func (c Checkpoint) SigningMessage() []byte {
	b := make([]byte, 0, 128)
	b = append(b, signingDomain...)
	b = append(b, 0)
	b = append(b, c.Replica...)
	b = append(b, 0)
	b = strconv.AppendInt(b, c.Seq, 10)
	b = append(b, 0)
	b = append(b, c.Hash...)
	b = append(b, 0)
	b = append(b, c.Time.UTC().Format(time.RFC3339Nano)...)
	return b
}

// newCheckpoint makes a checkpoint for the record at seq with hash, signed
// when key is set.
func newCheckpoint(replica string, seq int64, hash string, now time.Time, key ed25519.PrivateKey) Checkpoint {
	c := Checkpoint{Replica: replica, Seq: seq, Hash: hash, Time: now.UTC().Truncate(time.Microsecond)}
	if key != nil {
		c.PublicKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
		c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.SigningMessage()))
	}
	return c
}

// Signed reports whether the checkpoint carries a signature.
func (c Checkpoint) Signed() bool { return c.Signature != "" }

// Errors from checking a checkpoint's signature.
var (
	errUnsigned     = errors.New("checkpoint is not signed")
	errBadKey       = errors.New("checkpoint's public key is malformed")
	errUntrustedKey = errors.New("checkpoint is signed by a key that is not trusted")
	errBadSignature = errors.New("checkpoint's signature does not match its replica, seq, hash and time")
)

// checkSignature verifies the checkpoint's signature. With trusted keys,
// the signing key must be one of them; without, the key stored beside the
// checkpoint is used, which proves only that the checkpoint was not edited
// by someone without a key.
func (c Checkpoint) checkSignature(trusted []ed25519.PublicKey) error {
	if !c.Signed() {
		return errUnsigned
	}
	pub, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return errBadKey
	}
	if len(trusted) > 0 {
		ok := false
		for _, k := range trusted {
			if k.Equal(ed25519.PublicKey(pub)) {
				ok = true
				break
			}
		}
		if !ok {
			return errUntrustedKey
		}
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.SigningMessage(), sig) {
		return errBadSignature
	}
	return nil
}

// KeyID is a short, stable name for a public key: the first 8 bytes of its
// SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
