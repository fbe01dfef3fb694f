package seal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexd/flexd/seal"
)

func TestSealOpen(t *testing.T) {
	b, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	v := b.Seal("ha1-value", "api_keys.ha1_md5/1")
	if !seal.IsSealed(v) || strings.Contains(v, "ha1-value") || v == b.Seal("ha1-value", "api_keys.ha1_md5/1") {
		t.Fatalf("sealed value %q: not marked, in clear, or not randomized", v)
	}
	if got, err := b.Open(v, "api_keys.ha1_md5/1"); err != nil || got != "ha1-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Bound to its place: moved to another row, it does not open.
	if _, err := b.Open(v, "api_keys.ha1_md5/2"); !errors.Is(err, seal.ErrWrongKey) {
		t.Errorf("opened at another place: %v", err)
	}
	other, _ := seal.New(seal.NewKey())
	if _, err := other.Open(v, "api_keys.ha1_md5/1"); !errors.Is(err, seal.ErrWrongKey) {
		t.Errorf("opened under another key: %v", err)
	}
	// A value stored before sealing passes through, to be sealed.
	if got, err := b.Open("plain", "x"); err != nil || got != "plain" {
		t.Errorf("plain value: %q %v", got, err)
	}
	tok := b.Token("p", "id")
	if tok != b.Token("p", "id") || tok == other.Token("p", "id") || tok == b.Token("q", "id") || tok == b.Token("p", "id2") {
		t.Error("tokens are not derived from key, purpose and id alone")
	}
}

func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k, created, err := seal.LoadKeyFile(path)
	if err != nil || !created || len(k) != seal.KeyLen {
		t.Fatalf("first load: %x %v %v", k, created, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v %v, want 0600", info.Mode().Perm(), err)
	}
	again, created, err := seal.LoadKeyFile(path)
	if err != nil || created || string(again) != string(k) {
		t.Errorf("second load: %x %v %v, want the same key", again, created, err)
	}
	if _, err := seal.ParseKey("abc"); err == nil {
		t.Error("a short key parsed")
	}
}
