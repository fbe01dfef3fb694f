package auth_test

import (
	"regexp"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexd/flexd/auth"
)

func TestGenerators(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, secret, tok := auth.NewClientID(), auth.NewClientSecret(), auth.NewAccessToken()
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
	if d := auth.TokenDigest("abc"); d != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("TokenDigest(abc) = %s", d)
	}
}

func TestSecretHashing(t *testing.T) {
	secret := auth.NewClientSecret()
	h, err := auth.HashSecretCost(secret, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if h == secret || !auth.CheckSecret(h, secret) {
		t.Fatal("hash does not check")
	}
	for _, wrong := range []string{"", secret[:len(secret)-1], secret + "x", auth.NewClientSecret()} {
		if auth.CheckSecret(h, wrong) {
			t.Errorf("CheckSecret accepted %q", wrong)
		}
	}
	if auth.CheckSecret("not a bcrypt hash", secret) {
		t.Error("garbage hash accepted")
	}
	if _, err := auth.HashSecretCost(string(make([]byte, 73)), bcrypt.MinCost); err == nil {
		t.Error("a secret bcrypt would truncate was hashed")
	}
	if cost, _ := bcrypt.Cost([]byte(mustHash(t, secret))); cost != auth.DefaultSecretCost {
		t.Errorf("default cost %d", cost)
	}
}

func mustHash(t *testing.T, s string) string {
	h, err := auth.HashSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
