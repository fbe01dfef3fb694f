// Package seal encrypts the secrets flexd must keep in its database in a
// usable form (the Digest HA1 values, the nonce key) under a key kept
// outside the database, so that a copy of the database alone (a backup, a
// PostgreSQL dump, a stolen disk image of the database but not of the key)
// grants nothing. AES-256-GCM; each value is bound to where it is stored
// (its table, column and row) so a sealed value cannot be moved to another
// row and opened there.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyLen is the length of a key: AES-256.
const KeyLen = 32

// prefix marks a sealed value, so that values stored before sealing was
// introduced are told apart and sealed at start.
const prefix = "sealed:v1:"

// ErrWrongKey is the error of opening a value sealed under another key:
// replicas that share a database must share the key too.
var ErrWrongKey = errors.New("seal: the value was sealed under another key")

// Box seals and opens values under one key.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// New returns a Box for key, which must be KeyLen bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("seal: a key is %d bytes, not %d", KeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, key: append([]byte(nil), key...)}, nil
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeyLen)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (it crashes instead)
	return k
}

// IsSealed reports whether v is a sealed value.
func IsSealed(v string) bool { return strings.HasPrefix(v, prefix) }

// Seal encrypts plain, bound to where (e.g. "api_keys.ha1_md5/<id>").
func (b *Box) Seal(plain, where string) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(where))
	return prefix + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value Seal returned for the same where. A value that is
// not sealed is returned as it is: it was stored before sealing began, and
// is sealed at the next start.
func (b *Box) Open(v, where string) (string, error) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return v, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("seal: malformed sealed value of %s", where)
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(where))
	if err != nil {
		return "", fmt.Errorf("%w (%s)", ErrWrongKey, where)
	}
	return string(plain), nil
}

// Token derives a URL-safe token from id for purpose: HMAC-SHA-256 under
// the key. A derived token need not be stored to be shown again, and only
// the key's holder can make one.
func (b *Box) Token(purpose, id string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Digest is the hex SHA-256 of a token: what is stored to find it again.
func Digest(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// ParseKey reads a key written as 64 hex digits (surrounding space
// ignored), the form NewKeyFile writes and FLEXD_SECRET_KEY takes.
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != KeyLen {
		return nil, fmt.Errorf("seal: a key is %d hex digits", 2*KeyLen)
	}
	return k, nil
}

// LoadKeyFile reads the key in path; when there is no such file, it
// writes a new one there, readable by its owner only, and reports that it
// did. The write is exclusive: of two processes starting at once on one
// path, one creates the key and the other reads it.
func LoadKeyFile(path string) (key []byte, created bool, err error) {
	k := NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			_ = os.Remove(path)
			return nil, false, fmt.Errorf("seal: write key file %s: %w", path, werr)
		}
		return k, true, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, false, fmt.Errorf("seal: create key file %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	k, err = ParseKey(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return k, false, nil
}
