package auth_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd/auth"
)

func TestLimiter(t *testing.T) {
	clock := newClock()
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 3, Window: 3 * time.Minute, Clock: clock})
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	// A token bucket: 3 at once, then one more each minute.
	ok, ra := l.Allow("a")
	if ok || ra != time.Minute {
		t.Errorf("4th request: ok=%v retryAfter=%v, want refused for 1m", ok, ra)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key refused")
	}
	clock.Advance(time.Minute)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("a refilled token is refused")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("a bucket refilled more than one token in a minute")
	}
	e := l.Error("/api/oauth/token", ra)
	if e.Status != 429 || e.Detail != "Resource /api/oauth/token is limited to 3 requests every 3 minutes." ||
		e.RetryAfter != time.Minute {
		t.Errorf("error %+v", e)
	}
}

// TestLimiterBoundedKeys: beyond MaxKeys the least recently used bucket is
// forgotten. No key ever shares another's bucket: a flood of new keys
// cannot throttle one it has never seen (before, keys beyond the bound
// shared one overflow count, and a flood locked everyone out).
func TestLimiterBoundedKeys(t *testing.T) {
	clock := newClock()
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 2, Window: time.Minute, MaxKeys: 10, Clock: clock})
	for i := range 1000 {
		l.Allow(fmt.Sprint("flood", i))
		l.Allow(fmt.Sprint("flood", i))
		if n := l.Len(); n > 10 {
			t.Fatalf("%d buckets held, bound 10", n)
		}
	}
	for i := range 2 {
		if ok, _ := l.Allow("innocent"); !ok {
			t.Fatalf("a new key after a flood of others is refused at request %d", i+1)
		}
	}
	if ok, _ := l.Allow("innocent"); ok {
		t.Error("the new key is not limited by its own bucket")
	}
}

// TestFailureKeysAreBounded: the identity in a limiter key is the client's
// to choose (a Digest username, a client id); a long one is hashed, so a
// flood of megabyte usernames cannot grow the limiter beyond its keys'
// bound times a small size.
func TestFailureKeysAreBounded(t *testing.T) {
	long := strings.Repeat("u", 1<<20)
	k := auth.FailureKey("192.0.2.1", long)
	if len(k) > 100 || k == auth.FailureKey("192.0.2.1", long+"x") {
		t.Errorf("key of a 1 MiB identity: %d bytes, or not telling identities apart", len(k))
	}
	if auth.FailureKey("192.0.2.1", "abcdefgh") != "192.0.2.1\x00abcdefgh" {
		t.Error("a short identity is not kept as it is")
	}
}
