package flexd

import "time"

// Clock is the one source of time for everything flexd records or schedules,
// so that a manual clock can drive lifecycle tests and drills.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, truncated to whole seconds in UTC because
// Atlas timestamps carry whole seconds.
type SystemClock struct{}

// Now returns the current UTC time in whole seconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Second) }
