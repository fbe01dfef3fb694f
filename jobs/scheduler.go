package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flexd/flexd"
)

// loop is the scheduler: it hands due timers to the queue and sleeps until
// the next due time (real clock), a new timer, or a finished job.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	for {
		if _, err := e.fireDue(ctx); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "scheduling lifecycle work", "err", err)
		}
		// Kicks (a timer armed, a job ended) cover what this process does;
		// the second is a safety net, and what notices the timers another
		// replica armed. A timer already due is one whose job runs or
		// waits for a retry: its end kicks.
		wait := time.Second
		if e.manual == nil {
			if next, err := e.store.NextTimer(ctx); err == nil {
				if d := time.Until(next.DueAt); d > 0 {
					wait = min(wait, d)
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// fireDue hands every timer due now to the queue, once per arming, and
// returns their jobs.
func (e *Engine) fireDue(ctx context.Context) (map[armKey]int64, error) {
	jobs := map[armKey]int64{}
	for {
		ts, err := e.store.DueTimers(ctx, e.clock.Now(), 500)
		if err != nil {
			return jobs, err
		}
		added := false
		for _, t := range ts {
			k := armKey{t.Kind, t.EntityID, t.Seq}
			if _, seen := jobs[k]; seen {
				continue
			}
			e.mu.Lock()
			id, ok := e.inflight[k]
			e.mu.Unlock()
			if !ok {
				// Enqueue is unique per arming, so a second scheduler pass
				// racing this one gets the same job. A synchronous queue
				// runs the job within Enqueue: nothing is in flight after.
				if id, err = e.queue.Enqueue(ctx, t); err != nil {
					return jobs, err
				}
				if !e.sync {
					e.mu.Lock()
					e.inflight[k] = id
					e.mu.Unlock()
				}
			}
			jobs[k] = id
			added = true
		}
		if len(ts) < 500 {
			e.forgetFinished(jobs)
			return jobs, nil
		}
		if !added {
			return jobs, nil
		}
	}
}

// forgetFinished drops the in-flight armings that are no longer due: their
// timer was disarmed or re-armed, so their work is over. Handle forgets
// the armings this process ran; with several replicas on one database the
// ones another replica ran end here, or they would pile up. Forgetting one
// too early costs at most an Enqueue that finds its unique job.
func (e *Engine) forgetFinished(due map[armKey]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.inflight {
		if _, ok := due[k]; !ok {
			delete(e.inflight, k)
		}
	}
}

// errStuck reports work that keeps failing while the clock is advanced.
var errStuck = errors.New("lifecycle work keeps failing")

// settlingKey marks the context of work run by settle, whose own wake-ups
// the settle picks up itself.
type settlingKey struct{}

// settle runs everything due now, and what that makes due now, until
// nothing is: NewSync's engine does it after every unit of work that armed
// a timer.
func (e *Engine) settle(ctx context.Context) error {
	e.advance.Lock()
	defer e.advance.Unlock()
	return e.runDue(context.WithValue(ctx, settlingKey{}, true), nil)
}

// advanceTo steps a manual clock to target: to each due time in order,
// running what is due there and waiting for it, until nothing is due.
// Work already running when it is called (a restore's copy, which a manual
// clock does not see take time) finishes first, at the time it started
// in: a restore started before an advance is applied before it, and its
// RestoreTime counts from then.
func (e *Engine) advanceTo(ctx context.Context, target time.Time) error {
	e.advance.Lock()
	defer e.advance.Unlock()
	if !e.sync {
		if _, err := e.waitIdle(ctx); err != nil {
			return err
		}
	}
	if e.sync {
		ctx = context.WithValue(ctx, settlingKey{}, true)
	}
	return e.runDue(ctx, &target)
}

// runDue runs the due work and waits for it, again and again while that
// makes more work due; with a target, it first moves the manual clock to
// the next due time up to target.
func (e *Engine) runDue(ctx context.Context, target *time.Time) error {
	ran := map[armKey]bool{}
	for {
		var next *flexd.Timer
		if target != nil {
			var err error
			next, err = e.store.NextTimer(ctx)
			if err != nil && !errors.Is(err, flexd.ErrNotFound) {
				return err
			}
			if next != nil && !next.DueAt.After(*target) {
				e.manual.Set(next.DueAt)
			} else {
				e.manual.Set(*target)
			}
		}
		jobs, err := e.fireDue(ctx)
		if err != nil {
			return err
		}
		progressed := false
		for k, id := range jobs {
			if ran[k] {
				continue // still due after its job ran: the job failed
			}
			if err := e.queue.Wait(ctx, id); err != nil {
				return err
			}
			ran[k], progressed = true, true
		}
		if !progressed {
			if len(jobs) > 0 {
				var stuck []string
				for k := range jobs {
					stuck = append(stuck, string(k.kind)+" "+k.id)
				}
				return fmt.Errorf("%w: %s still due; see the log", errStuck, strings.Join(stuck, ", "))
			}
			if target == nil || next == nil || next.DueAt.After(*target) {
				// Work still running may arm more that is due.
				if busy, err := e.waitIdle(ctx); busy || err != nil {
					if err != nil {
						return err
					}
					continue
				}
				return nil
			}
		}
	}
}
