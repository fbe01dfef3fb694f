package credential_test

import (
	"regexp"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexd/flexd/credential"
)

func TestGenerators(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, secret, tok := credential.NewClientID(), credential.NewClientSecret(), credential.NewAccessToken()
		if !regexp.MustCompile(`^mdb_sa_id_[0-9a-f]{24}$`).MatchString(id) {
			t.Fatalf("client id %q", id)
		}
		if !regexp.MustCompile(`^mdb_sa_sk_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
			t.Fatalf("secret %q", secret)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("token %q", tok)
		}
		for _, s := range []string{id, secret, tok} {
			if seen[s] {
				t.Fatalf("%q generated twice", s)
			}
			seen[s] = true
		}
	}
	if d := credential.TokenDigest("abc"); d != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("TokenDigest(abc) = %s", d)
	}
}

func TestSecretHashing(t *testing.T) {
	secret := credential.NewClientSecret()
	h, err := credential.HashSecretCost(secret, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if h == secret || !credential.CheckSecret(h, secret) {
		t.Fatal("hash does not check")
	}
	for _, wrong := range []string{"", secret[:len(secret)-1], secret + "x", credential.NewClientSecret()} {
		if credential.CheckSecret(h, wrong) {
			t.Errorf("CheckSecret accepted %q", wrong)
		}
	}
	if credential.CheckSecret("not a bcrypt hash", secret) {
		t.Error("garbage hash accepted")
	}
	if _, err := credential.HashSecretCost(string(make([]byte, 73)), bcrypt.MinCost); err == nil {
		t.Error("a secret bcrypt would truncate was hashed")
	}
	if cost, _ := bcrypt.Cost([]byte(mustHash(t, secret))); cost != credential.DefaultSecretCost {
		t.Errorf("default cost %d", cost)
	}
}

func mustHash(t *testing.T, s string) string {
	h, err := credential.HashSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
