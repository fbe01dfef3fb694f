package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flexd/flexd"
)

// Limiter is a token bucket per key (golang.org/x/time/rate), the shape of
// Atlas's own limits: Limit requests at once, refilled at Limit per Window
// ("limited to 50 requests every 1 minutes"). Memory is bounded: at most
// MaxKeys buckets are kept, the least recently used one giving way to a new
// key. A forgotten bucket starts full again, so eviction can only forgive a
// caller, never charge one for another's requests: there is no bucket that
// keys share.
type Limiter struct {
	limit   int
	window  time.Duration
	every   rate.Limit
	maxKeys int
	clock   flexd.Clock

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
}

type bucket struct {
	key string
	lim *rate.Limiter
}

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	Limit  int           // bucket size, and refills per Window; must be > 0
	Window time.Duration // should be whole minutes (Atlas reports minutes); must be > 0
	// MaxKeys bounds the buckets kept (default 100,000, some 20 MB).
	MaxKeys int
	Clock   flexd.Clock // defaults to the system clock
}

// NewLimiter returns a limiter; it panics on a non-positive limit or window,
// which are configuration mistakes to catch at startup.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Limit <= 0 || cfg.Window <= 0 {
		panic("auth: limiter needs a positive limit and window")
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Clock == nil {
		cfg.Clock = flexd.SystemClock{}
	}
	return &Limiter{limit: cfg.Limit, window: cfg.Window, maxKeys: cfg.MaxKeys, clock: cfg.Clock,
		every: rate.Limit(float64(cfg.Limit) / cfg.Window.Seconds()), keys: make(map[string]*list.Element)}
}

// Allow takes one token from key's bucket and reports whether there was
// one; if not, nothing is taken and retryAfter is when the next one comes.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// bucket returns key's bucket, marked as just used. Called with l.mu held.
func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket).lim
	}
	// Full buckets at the back hold nothing worth keeping: drop a few on
	// the way, so that the map holds mostly keys that are being limited.
	for range 2 {
		back := l.lru.Back()
		if back == nil || back.Value.(*bucket).lim.TokensAt(now) < float64(l.limit) {
			break
		}
		l.remove(back)
	}
	if l.lru.Len() >= l.maxKeys {
		l.remove(l.lru.Back())
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.every, l.limit)}
	l.keys[key] = l.lru.PushFront(b)
	return b.lim
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// Len reports how many buckets the limiter holds, for tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// Error returns the Atlas RATE_LIMITED error for path, with the limit and
// window this limiter enforces (the window in minutes, rounded up) and
// retryAfter for the Retry-After header.
func (l *Limiter) Error(path string, retryAfter time.Duration) *flexd.Error {
	minutes := int((l.window + time.Minute - 1) / time.Minute)
	e := flexd.RateLimited(path, l.limit, minutes)
	e.RetryAfter = retryAfter
	return e
}

// failureKey names whom a request is charged to: the address and the
// identity it claimed, so that one client's failures never throttle
// another identity behind the same address (a NAT, a load balancer). The
// identity is the client's to choose, so a long one is replaced by its
// hash: a key's size, and so the limiter's memory, stays bounded.
func failureKey(ip, identity string) string {
	if len(identity) > maxIdentityLen {
		sum := sha256.Sum256([]byte(identity))
		identity = "sha256:" + hex.EncodeToString(sum[:16])
	}
	return ip + "\x00" + identity
}

// maxIdentityLen is the longest identity kept as it is in a limiter key:
// public keys are 8 characters, client ids 34.
const maxIdentityLen = 64
