package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"hash/maphash"
	"sync"
	"time"

	"github.com/flexd/flexd"
)

// Nonce layout: version | issued (unix seconds, big endian) | random | MAC.
// The MAC (HMAC-SHA-256 under a server key, truncated) makes a nonce
// self-validating: any replica holding the key, or this one after a restart,
// can tell its own nonces from forged ones and read their age without
// remembering having issued them. base64url without padding keeps the nonce
// free of '"', ',' and spaces, which the SDK's challenge parser cannot quote.
const (
	nonceVersion   = 1
	nonceRandomLen = 16
	nonceMACLen    = 16
	nonceBodyLen   = 1 + 8 + nonceRandomLen
	nonceLen       = nonceBodyLen + nonceMACLen
	// maxNonceSkew tolerates replicas whose clocks run slightly ahead.
	maxNonceSkew = time.Minute
)

var nonceEncoding = base64.RawURLEncoding.Strict()

// MinKeyLen is the shortest nonce key accepted: HMAC keys shorter than the
// truncated MAC would be the weak link.
const MinKeyLen = 16

// NewKey returns a fresh 32-byte random key for signing Digest nonces. Keep
// it in configuration shared by every replica: nonces then survive restarts
// and load balancers.
func NewKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (it crashes instead)
	return k
}

// nonceSigner issues and checks nonces under keys[0], accepting keys[1:] too
// so a key can be rotated without failing logins in flight.
type nonceSigner struct {
	keys [][]byte
	macs []sync.Pool // per key, of keyed HMAC states: every call checks one
}

func newNonceSigner(keys [][]byte) *nonceSigner {
	return &nonceSigner{keys: keys, macs: make([]sync.Pool, len(keys))}
}

func (s *nonceSigner) issue(now time.Time) string {
	var b [nonceLen]byte
	b[0] = nonceVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(now.Unix()))
	_, _ = rand.Read(b[9:nonceBodyLen])
	var m [sha256.Size]byte
	copy(b[nonceBodyLen:], s.mac(0, &m, b[:nonceBodyLen]))
	return nonceEncoding.EncodeToString(b[:])
}

// check reports when a genuine nonce was issued; ok is false for anything
// this server did not sign.
func (s *nonceSigner) check(nonce string) (issued time.Time, ok bool) {
	if nonceEncoding.EncodedLen(nonceLen) != len(nonce) {
		return time.Time{}, false
	}
	var b [nonceLen]byte
	if n, err := nonceEncoding.Decode(b[:], []byte(nonce)); err != nil || n != nonceLen || b[0] != nonceVersion {
		return time.Time{}, false
	}
	var m [sha256.Size]byte
	for i := range s.keys {
		if hmac.Equal(s.mac(i, &m, b[:nonceBodyLen]), b[nonceBodyLen:]) {
			sec := binary.BigEndian.Uint64(b[1:9])
			if sec > 1<<62 {
				return time.Time{}, false
			}
			return time.Unix(int64(sec), 0).UTC(), true
		}
	}
	return time.Time{}, false
}

// mac returns the truncated HMAC-SHA-256 of body under key i.
func (s *nonceSigner) mac(i int, dst *[sha256.Size]byte, body []byte) []byte {
	h, _ := s.macs[i].Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, s.keys[i])
	}
	h.Reset()
	h.Write(body)
	out := h.Sum(dst[:0])[:nonceMACLen]
	s.macs[i].Put(h)
	return out
}

// NonceCounter remembers which (nonce, nc) pairs have been used, so that a
// captured Digest response cannot be replayed. With several replicas it must
// be shared between them (a table keyed by nonce and nc with an expiry
// column does); the in-memory MemoryNonceCounter protects one process only.
type NonceCounter interface {
	// Use records the pair and reports whether it was unseen. The pair may
	// be forgotten after expires: the verifier rejects the nonce as stale
	// from then on, before consulting the counter.
	Use(ctx context.Context, nonce string, nc uint32, expires time.Time) (fresh bool, err error)
}

// ErrCounterFull is returned by MemoryNonceCounter when it holds its maximum
// number of live pairs. Failing closed keeps memory bounded without opening a
// replay window; only clients that already proved their key can fill it,
// because the verifier checks the response before using the pair.
var ErrCounterFull = errors.New("auth: nonce counter full")

// MemoryNonceCounter is a NonceCounter for a single process. Its history is
// lost on restart, so a response captured within the nonce TTL before a
// restart could be replayed once afterwards; share a store-backed counter
// when that matters or when running several replicas.
type MemoryNonceCounter struct {
	clock  flexd.Clock
	max    int // live pairs per shard
	seed   maphash.Seed
	shards [nonceShards]nonceShard
}

// nonceShards spreads the lock: every authenticated Digest call takes one.
const nonceShards = 16

type nonceShard struct {
	mu   sync.Mutex
	seen *expiringMap[nonceUse, struct{}]
}

type nonceUse struct {
	nonce string
	nc    uint32
}

// DefaultMaxNonces bounds MemoryNonceCounter. A pair costs about 240 bytes
// (measured), so the bound is about 250 MB, reached only by some 3,500
// authenticated Digest requests a second sustained over a 5-minute TTL.
const DefaultMaxNonces = 1 << 20

// NewMemoryNonceCounter returns an empty counter holding at most max live
// pairs (DefaultMaxNonces when max <= 0), timed by clock (the system clock
// when nil).
func NewMemoryNonceCounter(max int, clock flexd.Clock) *MemoryNonceCounter {
	if max <= 0 {
		max = DefaultMaxNonces
	}
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	c := &MemoryNonceCounter{clock: clock, max: (max + nonceShards - 1) / nonceShards, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].seen = newExpiringMap[nonceUse, struct{}]()
	}
	return c
}

// Use implements NonceCounter.
func (c *MemoryNonceCounter) Use(_ context.Context, nonce string, nc uint32, expires time.Time) (bool, error) {
	s := &c.shards[maphash.String(c.seed, nonce)%nonceShards]
	k := nonceUse{nonce, nc}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.prune(c.clock.Now())
	if _, ok := s.seen.get(k); ok {
		return false, nil
	}
	if s.seen.len() >= c.max {
		return false, ErrCounterFull
	}
	s.seen.put(k, struct{}{}, expires)
	return true, nil
}

// Len reports how many live pairs the counter holds, for tests and metrics.
func (c *MemoryNonceCounter) Len() int {
	n, now := 0, c.clock.Now()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.seen.prune(now)
		n += s.seen.len()
		s.mu.Unlock()
	}
	return n
}
