package jobs

import (
	"sync"
	"time"

	"github.com/flexd/flexd"
)

// ManualClock is a flexd.Clock that starts at the real time and then moves
// only when told (POST /_flexd/clock:advance), so drills and tests can run
// days of lifecycle in moments. It reads in whole UTC seconds, like
// flexd.SystemClock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ flexd.Clock = (*ManualClock)(nil)

// NewManualClock returns a manual clock reading start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start.UTC().Truncate(time.Second)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t; it never moves backwards, because timestamps
// already handed out must stay in the past.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t = t.UTC().Truncate(time.Second); t.After(c.now) {
		c.now = t
	}
}
