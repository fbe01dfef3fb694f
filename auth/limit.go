package auth

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/flexd/flexd"
)

// Limiter allows N requests per key in fixed windows of M minutes, the way
// Atlas words its limits ("limited to 50 requests every 1 minutes"). Windows
// are aligned to the clock for every key at once, so a new window simply
// forgets all counts: memory is bounded by the keys seen in one window, and
// by MaxKeys beyond that.
type Limiter struct {
	limit   int
	window  time.Duration
	maxKeys int
	clock   flexd.Clock

	mu       sync.Mutex
	start    time.Time // of the current window
	counts   map[string]int
	overflow int // shared count of keys that found the map full
}

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	Limit  int           // requests per window; must be > 0
	Window time.Duration // should be whole minutes (Atlas reports minutes); must be > 0
	// MaxKeys bounds the keys tracked per window (default 100,000). Keys
	// beyond it share one count, so a flood of distinct keys degrades to
	// one global limit instead of unbounded memory.
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
		counts: make(map[string]int)}
}

// Allow counts one request for key and reports whether it is within the
// limit; if not, retryAfter is the time until the window ends.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	return l.take(key, true)
}

// Exhausted reports, without counting, whether key has used up its window.
// Use it with Allow on failures only, to limit failed logins.
func (l *Limiter) Exhausted(key string) (exhausted bool, retryAfter time.Duration) {
	ok, ra := l.take(key, false)
	return !ok, ra
}

func (l *Limiter) take(key string, count bool) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if start := now.Truncate(l.window); !start.Equal(l.start) {
		l.start = start
		clear(l.counts)
		l.overflow = 0
	}
	c, tracked := l.counts[key]
	overflowing := !tracked && len(l.counts) >= l.maxKeys
	if overflowing {
		c = l.overflow
	}
	if c >= l.limit {
		return false, l.start.Add(l.window).Sub(now)
	}
	if count {
		if overflowing {
			l.overflow = c + 1
		} else {
			l.counts[key] = c + 1
		}
	}
	return true, 0
}

// Error returns the Atlas RATE_LIMITED error for path, with the limit and
// window this limiter enforces (the window in minutes, rounded up).
func (l *Limiter) Error(path string) *flexd.Error {
	minutes := int((l.window + time.Minute - 1) / time.Minute)
	return flexd.Errorf("RATE_LIMITED", path, l.limit, minutes)
}

// RetryAfter formats d for the Retry-After header: whole seconds, rounded
// up, at least 1.
func RetryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// WriteAtlasError writes e in Atlas's usual error shape: compact JSON with
// keys in alphabetical order, Content-Type application/json and X-Error-Code.
// The API server has its own encoder; this one serves the token endpoint,
// which lives outside it, and is the default for OAuthConfig.WriteError.
func WriteAtlasError(w http.ResponseWriter, _ *http.Request, e *flexd.Error) {
	params := e.Parameters
	if params == nil {
		params = []any{}
	}
	body, err := jsonMarshal(struct {
		Detail     string `json:"detail"`
		Error      int    `json:"error"`
		ErrorCode  string `json:"errorCode"`
		Parameters []any  `json:"parameters"`
		Reason     string `json:"reason"`
	}{e.Detail, e.Status, e.Code, params, http.StatusText(e.Status)})
	if err != nil {
		http.Error(w, "", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Error-Code", e.Code)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
