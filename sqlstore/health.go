package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// probeEvery bounds how often Ready writes: a load balancer polling
// /readyz many times a second costs one small write per interval.
const probeEvery = 2 * time.Second

// health remembers the last write probe, and whether a write failed since.
type health struct {
	failed atomic.Bool // a write failed after the last probe
	mu     sync.Mutex
	at     time.Time
	err    error
}

// noteWrite records the outcome of a write: one that failed for another
// reason than the request (a constraint, a cancellation) makes the next
// Ready probe at once instead of answering from its last probe.
func (s *Store) noteWrite(ctx context.Context, err error) {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		s.dialect.Classify(err) != NoViolation {
		return
	}
	s.health.failed.Store(true)
}

// Ready reports whether the store can serve requests: the database answers
// and a write to it succeeds. A database that answers reads while every
// write fails (a full disk, a read-only file or server) is not ready.
// The write is made at most every probeEvery, or at once after a write
// failed.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if !h.failed.Swap(false) && !h.at.IsZero() && now.Sub(h.at) < probeEvery {
		return h.err
	}
	_, err := s.db.ExecContext(ctx, s.sqlText("INSERT INTO health_probe (id, at) VALUES (1, ?)"+
		" ON CONFLICT (id) DO UPDATE SET at = excluded.at"), now.Unix())
	h.at, h.err = now, nil
	if err != nil {
		h.err = fmt.Errorf("write probe: %w", err)
	}
	return h.err
}
