// Package credential makes and checks the secrets flexd hands out (API key
// HA1 values, service account ids and secrets, bearer tokens) without any
// HTTP: the service creates credentials with it, and auth verifies them.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"golang.org/x/crypto/bcrypt"
)

// Service account credential shapes, as Atlas documents them.
const (
	ClientIDPrefix     = "mdb_sa_id_"
	ClientSecretPrefix = "mdb_sa_sk_"
)

// DefaultSecretCost is the bcrypt cost HashSecret uses.
const DefaultSecretCost = 10

// NewClientID returns a service account client id: the prefix and 24 hex
// digits of randomness. Random rather than time-ordered, so ids cannot be
// enumerated against the token endpoint.
func NewClientID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return ClientIDPrefix + hex.EncodeToString(b[:])
}

// NewClientSecret returns a service account secret: the prefix and 32 random
// bytes in base64url (53 bytes in all, under bcrypt's 72-byte limit). The
// alphabet needs no escaping in a form or in Basic credentials, so clients
// that percent-encode them (golang.org/x/oauth2) and clients that do not (the
// SDK's own token fetcher) send the same bytes.
func NewClientSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return ClientSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret returns the bcrypt hash of secret at DefaultSecretCost: what the
// store keeps instead of the secret.
func HashSecret(secret string) (string, error) {
	return HashSecretCost(secret, DefaultSecretCost)
}

// HashSecretCost is HashSecret at a chosen bcrypt cost (tests use
// bcrypt.MinCost). Secrets over 72 bytes are refused: bcrypt would silently
// ignore the rest.
func HashSecretCost(secret string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// CheckSecret reports whether secret matches hash. The comparison is
// constant-time (bcrypt compares its outputs with crypto/subtle); secrets
// over 72 bytes never match, since bcrypt would compare only their prefix.
func CheckSecret(hash, secret string) bool {
	if secret == "" || len(secret) > 72 {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
}

// NewAccessToken returns a bearer token: 32 random bytes in base64url.
func NewAccessToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TokenDigest returns the hex SHA-256 of token, the only form in which tokens
// are stored: a dump of the store yields nothing a client could present. A
// fast hash is enough because tokens carry 256 bits of randomness; nothing
// could be guessed by brute force.
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
