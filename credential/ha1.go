package credential

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
)

// Realm is the Digest realm Atlas uses. It is part of every stored HA1, so it
// can never change without re-issuing every API key.
const Realm = "MMS Public API"

// Digest algorithms an HA1 is computed for.
const (
	AlgorithmMD5    = "MD5"
	AlgorithmSHA256 = "SHA-256"
)

// HA1 returns H(username:realm:password) in lowercase hex for alg (MD5 or
// SHA-256): what the store keeps for an API key instead of its private key,
// one value per algorithm. Compute both when a key is created; the private
// key cannot be recovered later. It panics on any other algorithm, which is
// a programming error.
func HA1(alg, username, password string) string {
	data := []byte(username + ":" + Realm + ":" + password)
	switch alg {
	case AlgorithmMD5:
		s := md5.Sum(data)
		return hex.EncodeToString(s[:])
	case AlgorithmSHA256:
		s := sha256.Sum256(data)
		return hex.EncodeToString(s[:])
	}
	panic("credential: HA1 of unsupported algorithm " + alg)
}
