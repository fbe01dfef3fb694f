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

// Nonce layout: version | issued (unix seconds, big endian) | random | MAC,
// and since version 2 an epoch after the issue time: version | issued |
// epoch | random | MAC. The MAC (HMAC-SHA-256 under a server key, truncated)
// makes a nonce self-validating: any replica holding the key, or this one
// after a restart, can tell its own nonces from forged ones and read their
// age without remembering having issued them. The epoch is random per
// signer, that is per process: a verifier that remembers used nonces in
// memory accepts only its own epoch, because a restart forgets which of the
// earlier nonces were used (DigestConfig.ThisProcessOnly). base64url without
// padding keeps the nonce free of '"', ',' and spaces, which the SDK's
// challenge parser cannot quote.
const (
	nonceVersion1  = 1 // issued by flexd before epochs; still accepted where nonces are shared
	nonceVersion   = 2
	nonceEpochLen  = 8
	nonceRandomLen = 16
	nonceMACLen    = 16
	nonceBodyLen   = 1 + 8 + nonceEpochLen + nonceRandomLen
	nonceLen       = nonceBodyLen + nonceMACLen
	nonce1BodyLen  = 1 + 8 + nonceRandomLen
	nonce1Len      = nonce1BodyLen + nonceMACLen
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
	// epoch is in every nonce this signer issues; nothing else has it.
	epoch [nonceEpochLen]byte
}

func newNonceSigner(keys [][]byte) *nonceSigner {
	s := &nonceSigner{keys: keys, macs: make([]sync.Pool, len(keys))}
	_, _ = rand.Read(s.epoch[:])
	return s
}

func (s *nonceSigner) issue(now time.Time) string {
	var b [nonceLen]byte
	b[0] = nonceVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(now.Unix()))
	copy(b[9:9+nonceEpochLen], s.epoch[:])
	_, _ = rand.Read(b[9+nonceEpochLen : nonceBodyLen])
	var m [sha256.Size]byte
	copy(b[nonceBodyLen:], s.mac(0, &m, b[:nonceBodyLen]))
	return nonceEncoding.EncodeToString(b[:])
}

// check reports when a genuine nonce was issued and whether this signer
// issued it (its epoch); ok is false for anything this server did not sign.
func (s *nonceSigner) check(nonce string) (issued time.Time, own, ok bool) {
	var b [nonceLen]byte
	var body []byte
	switch len(nonce) {
	case nonceEncoding.EncodedLen(nonceLen):
		if n, err := nonceEncoding.Decode(b[:], []byte(nonce)); err != nil || n != nonceLen || b[0] != nonceVersion {
			return time.Time{}, false, false
		}
		body = b[:nonceBodyLen]
	case nonceEncoding.EncodedLen(nonce1Len):
		if n, err := nonceEncoding.Decode(b[:], []byte(nonce)); err != nil || n != nonce1Len || b[0] != nonceVersion1 {
			return time.Time{}, false, false
		}
		body = b[:nonce1BodyLen]
	default:
		return time.Time{}, false, false
	}
	mac := b[len(body) : len(body)+nonceMACLen]
	var m [sha256.Size]byte
	for i := range s.keys {
		if hmac.Equal(s.mac(i, &m, body), mac) {
			sec := binary.BigEndian.Uint64(b[1:9])
			if sec > 1<<62 {
				return time.Time{}, false, false
			}
			own = b[0] == nonceVersion && [nonceEpochLen]byte(b[9:9+nonceEpochLen]) == s.epoch
			return time.Unix(int64(sec), 0).UTC(), own, true
		}
	}
	return time.Time{}, false, false
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
// restart could be replayed once afterwards, unless the verifier accepts
// only the nonces its own process issued (DigestConfig.ThisProcessOnly),
// which a restart makes stale. Several replicas need a shared, store-backed
// counter instead.
type MemoryNonceCounter struct {
	clock  flexd.Clock
	max    int // live pairs per shard
	seeds  [2]maphash.Seed
	shards [nonceShards]nonceShard
}

// nonceShards spreads the lock: every authenticated Digest call takes one.
const nonceShards = 16

type nonceShard struct {
	mu   sync.Mutex
	seen *expiringMap[nonceUse, struct{}]
}

// nonceUse names a pair by a 128-bit hash of the nonce under random
// seeds, not by the nonce itself: every Digest request adds a pair for the
// nonce's lifetime, and without the nonce's string a pair holds no pointer
// for the garbage collector to scan and takes half the memory. Two nonces with
// one hash would need some 2^64 of them, and would only make the later
// one's request refused as a replay, never a replay accepted.
type nonceUse struct {
	h  [2]uint64
	nc uint32
}

// DefaultMaxNonces bounds MemoryNonceCounter. A pair costs about 120 bytes
// (measured, with the map's and the heap's spare room), so the bound is
// about 125 MB, reached only by some 3,500 authenticated Digest requests a
// second sustained over a 5-minute TTL.
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
	c := &MemoryNonceCounter{clock: clock, max: (max + nonceShards - 1) / nonceShards,
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for i := range c.shards {
		c.shards[i].seen = newExpiringMap[nonceUse, struct{}]()
	}
	return c
}

// Use implements NonceCounter.
func (c *MemoryNonceCounter) Use(_ context.Context, nonce string, nc uint32, expires time.Time) (bool, error) {
	k := nonceUse{[2]uint64{maphash.String(c.seeds[0], nonce), maphash.String(c.seeds[1], nonce)}, nc}
	s := &c.shards[k.h[0]%nonceShards]
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
