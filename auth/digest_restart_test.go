package auth_test

import (
	"testing"

	"github.com/flexd/flexd/auth"
)

// TestDigestThisProcessOnly is the single-process guard against replay: the
// used nonces are kept in memory only, so a restarted verifier (a new one on
// the same key, with an empty counter) must refuse every nonce issued
// before it, as stale, rather than accept a response captured before the
// restart.
func TestDigestThisProcessOnly(t *testing.T) {
	f := newDigestFixture(t)
	ownOnly := func() *auth.DigestVerifier {
		v, err := auth.NewDigestVerifier(f.creds, auth.NewMemoryNonceCounter(0, f.clock),
			auth.DigestConfig{Keys: [][]byte{f.key}, Clock: f.clock, ThisProcessOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c := rfcClient{username: publicKey, password: privateKey}
	before := ownOnly()
	ch := challenge(t, before)
	cnonce := newCnonce()
	h := c.authorization(ch, "GET", "/x", 1, cnonce)
	if _, err := verify(before, "GET", "/x", h); err != nil {
		t.Fatal(err)
	}
	_, err := verify(before, "GET", "/x", h)
	wantReason(t, err, auth.ReasonReplay)

	after := ownOnly() // the restart
	for name, h := range map[string]string{
		"the captured response": h,
		"the next nc":           c.authorization(ch, "GET", "/x", 2, cnonce),
		"an unused nonce":       c.authorization(challenge(t, before), "GET", "/x", 1, newCnonce()),
	} {
		_, err := verify(after, "GET", "/x", h)
		if fl := wantReason(t, err, auth.ReasonStaleNonce); !fl.Stale || fl.Subject != keyID {
			t.Errorf("%s: failure %+v, want stale", name, fl)
		}
	}
	// The fresh challenge of the stale answer works; a verifier sharing a
	// durable counter still takes nonces of other processes.
	if _, err := verify(after, "GET", "/x", c.authorization(challenge(t, after), "GET", "/x", 1, newCnonce())); err != nil {
		t.Errorf("a nonce of the restarted verifier: %v", err)
	}
	if _, err := verify(f.verifier, "GET", "/x", c.authorization(challenge(t, after), "GET", "/x", 1, newCnonce())); err != nil {
		t.Errorf("a shared verifier refused another process's nonce: %v", err)
	}
}
