package dbauth

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/flexd/flexd"
	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

// The SCRAM mechanisms MongoDB drivers offer.
const (
	SHA1   = "SCRAM-SHA-1"
	SHA256 = "SCRAM-SHA-256"
)

// MongoDB's default iteration counts (scramIterationCount,
// scramSHA256IterationCount). Drivers refuse fewer than 4096.
const (
	DefaultSHA1Iterations   = 10000
	DefaultSHA256Iterations = 15000
)

// Salt lengths as MongoDB draws them: the hash's size less four bytes.
const (
	sha1SaltLen   = 16
	sha256SaltLen = 28
)

// NewCredentials derives the SCRAM keys of a password for both mechanisms,
// with fresh salts and MongoDB's iteration counts. The password itself is
// not kept anywhere.
func NewCredentials(username, password string) (flexd.SCRAMCredentials, error) {
	return NewCredentialsWithIterations(username, password, DefaultSHA1Iterations, DefaultSHA256Iterations)
}

// NewCredentialsWithIterations is NewCredentials with chosen iteration
// counts (tests use fewer, drivers require at least 4096).
func NewCredentialsWithIterations(username, password string, sha1Iters, sha256Iters int) (flexd.SCRAMCredentials, error) {
	sha1, err := deriveKey(scram.SHA1, sha1Password(username, password), username, sha1Iters, sha1SaltLen)
	if err != nil {
		return flexd.SCRAMCredentials{}, err
	}
	prepped, err := stringprep.SASLprep.Prepare(password)
	if err != nil {
		return flexd.SCRAMCredentials{}, fmt.Errorf("SASLprep password: %w", err)
	}
	sha256, err := deriveKey(scram.SHA256, prepped, username, sha256Iters, sha256SaltLen)
	if err != nil {
		return flexd.SCRAMCredentials{}, err
	}
	return flexd.SCRAMCredentials{SHA1: sha1, SHA256: sha256}, nil
}

// sha1Password is what SCRAM-SHA-1 hashes in MongoDB instead of the
// password: the hex MD5 of "username:mongo:password" (the legacy
// MONGODB-CR digest), which every driver computes the same way.
func sha1Password(username, password string) string {
	h := md5.Sum([]byte(username + ":mongo:" + password))
	return hex.EncodeToString(h[:])
}

// deriveKey computes StoredKey and ServerKey the way a client does, without
// SASLprep of the username (MongoDB does not prep it).
func deriveKey(hash scram.HashGeneratorFcn, password, username string, iters, saltLen int) (flexd.SCRAMKey, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return flexd.SCRAMKey{}, err
	}
	c, err := hash.NewClientUnprepped(username, password, "")
	if err != nil {
		return flexd.SCRAMKey{}, err
	}
	sc, err := c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: iters})
	if err != nil {
		return flexd.SCRAMKey{}, err
	}
	return flexd.SCRAMKey{Salt: salt, Iterations: iters, StoredKey: sc.StoredKey, ServerKey: sc.ServerKey}, nil
}
