package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

// TestNonceVersion1 checks that nonces of the layout before epochs, which
// replicas not yet upgraded still issue, are genuine but never this
// process's own.
func TestNonceVersion1(t *testing.T) {
	s := newNonceSigner([][]byte{NewKey()})
	issued := time.Unix(1_750_000_000, 0).UTC()
	var b [nonce1Len]byte
	b[0] = nonceVersion1
	binary.BigEndian.PutUint64(b[1:9], uint64(issued.Unix()))
	_, _ = rand.Read(b[9:nonce1BodyLen])
	var m [sha256.Size]byte
	copy(b[nonce1BodyLen:], s.mac(0, &m, b[:nonce1BodyLen]))
	v1 := nonceEncoding.EncodeToString(b[:])

	if at, own, ok := s.check(v1); !ok || own || !at.Equal(issued) {
		t.Errorf("version 1 nonce: issued %v own %v ok %v", at, own, ok)
	}
	if at, own, ok := s.check(s.issue(issued)); !ok || !own || !at.Equal(issued) {
		t.Errorf("own nonce: issued %v own %v ok %v", at, own, ok)
	}
	if _, own, ok := newNonceSigner(s.keys).check(s.issue(issued)); !ok || own {
		t.Errorf("another signer's nonce on the same key: own %v ok %v", own, ok)
	}
	b[0] = nonceVersion // a version 1 body claiming to be version 2
	if _, _, ok := s.check(nonceEncoding.EncodeToString(b[:])); ok {
		t.Error("a version 1 nonce with a version 2 header was accepted")
	}
}
