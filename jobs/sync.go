package jobs

import (
	"context"
	"sync/atomic"

	"github.com/flexd/flexd"
)

// NewSync returns an engine that runs the lifecycle work synchronously: a
// unit of work that arms a timer due now runs that work (and what it arms
// due now) before the call that committed it returns. It is the same work
// the queued engine runs, without a queue: for tests and tools that want
// every item in its final state at once (zero ProvisionTime and
// RestoreTime). Work due later runs when something else wakes the engine,
// or at AdvanceClock with a manual clock. It needs no Start.
func NewSync(store Store, clock flexd.Clock, cfg Config) *Engine {
	e := New(store, clock, cfg)
	e.sync = true
	e.queue = &syncQueue{handle: e.Handle}
	return e
}

// syncQueue is a Queue that runs each job within Enqueue.
type syncQueue struct {
	handle Handler
	ids    atomic.Int64
}

func (q *syncQueue) Enqueue(ctx context.Context, t flexd.Timer) (int64, error) {
	_ = q.handle(ctx, t) // Handle logs a failure; the timer stays due
	return q.ids.Add(1), nil
}

func (q *syncQueue) Wait(context.Context, int64) error { return nil }
func (q *syncQueue) Start(context.Context) error       { return nil }
func (q *syncQueue) Stop(context.Context) error        { return nil }
