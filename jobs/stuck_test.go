package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
)

// TestAdvanceWhileWorkFails: work that fails while the clock is advanced
// (the store refusing a write, say) is retried by the queue; the advance
// answers Atlas's 503 with a Retry-After instead of a 500, and a later
// advance, once the retry has run, finds the work done.
func TestAdvanceWhileWorkFails(t *testing.T) {
	var failures atomic.Int32
	failures.Store(1)
	h := newHarness(t, nil, jobs.Config{
		ProvisionTime: time.Minute,
		Instrument: func(next jobs.Handler) jobs.Handler {
			return func(ctx context.Context, tm flexd.Timer) error {
				if tm.Kind == flexd.TimerCluster && failures.Add(-1) >= 0 {
					return errors.New("injected: the store refused a write")
				}
				return next(ctx, tm)
			}
		},
	})
	h.createCluster("c")
	res := h.call("POST", "/_flexd/clock:advance", `{"by":"1m"}`)
	if res.status != 503 {
		t.Fatalf("advance while work fails: %d %s, want 503", res.status, res.body)
	}
	if body := res.json(t); body["errorCode"] != "SERVICE_UNAVAILABLE" || res.header.Get("Retry-After") == "" {
		t.Errorf("answer %v (Retry-After %q), want SERVICE_UNAVAILABLE with a Retry-After", body, res.header.Get("Retry-After"))
	}
	eventually(t, "the retried provisioning ends the cluster IDLE", func() bool {
		return h.call("POST", "/_flexd/clock:advance", `{"by":"0s"}`).status == 200 && h.state("c") == "IDLE"
	})
}
