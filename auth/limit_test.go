package auth_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flexd/flexd/auth"
)

func TestLimiter(t *testing.T) {
	clock := newClock() // at a whole minute
	clock.Advance(15 * time.Second)
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 3, Window: 5 * time.Minute, Clock: clock})
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, ra := l.Allow("a")
	// The window started at a 5-minute boundary: 09:40:00, ending 09:45:00.
	if ok || ra != 2*time.Minute+45*time.Second {
		t.Errorf("4th request: ok=%v retryAfter=%v", ok, ra)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another key refused")
	}
	if ex, _ := l.Exhausted("b"); ex {
		t.Error("b exhausted after one request")
	}
	for range 10 {
		l.Exhausted("c") // peeking never counts
	}
	if ok, _ := l.Allow("c"); !ok {
		t.Error("Exhausted counted requests")
	}
	clock.Advance(2*time.Minute + 45*time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("new window still refuses")
	}
	e := l.Error("/api/oauth/token")
	if e.Status != 429 || e.Detail != "Resource /api/oauth/token is limited to 3 requests every 5 minutes." {
		t.Errorf("error %+v", e)
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	clock := newClock()
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 2, Window: time.Minute, MaxKeys: 10, Clock: clock})
	for i := range 10 {
		l.Allow(fmt.Sprint("k", i))
	}
	// Keys beyond MaxKeys share one allowance rather than growing memory.
	l.Allow("new1")
	l.Allow("new2")
	if ok, _ := l.Allow("new3"); ok {
		t.Error("overflow keys are not sharing one count")
	}
	if ok, _ := l.Allow("k1"); !ok {
		t.Error("tracked key lost its own count")
	}
	clock.Advance(time.Minute)
	if ok, _ := l.Allow("new3"); !ok {
		t.Error("overflow not reset by a new window")
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := auth.RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestWriteAtlasError(t *testing.T) {
	l := auth.NewLimiter(auth.LimiterConfig{Limit: 50, Window: time.Minute})
	w := httptest.NewRecorder()
	auth.WriteAtlasError(w, nil, l.Error("/api/oauth/token"))
	// TF-DOC's observed body.
	const want = `{"detail":"Resource /api/oauth/token is limited to 50 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["/api/oauth/token",50,1],"reason":"Too Many Requests"}`
	if w.Code != 429 || w.Body.String() != want || w.Header().Get("X-Error-Code") != "RATE_LIMITED" {
		t.Errorf("%d %s %v", w.Code, w.Body, w.Header())
	}
}
