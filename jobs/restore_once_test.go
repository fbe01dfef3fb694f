package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
)

// slowApply is ConfigArtifacts whose Apply waits until released, counting
// the copies running at once.
type slowApply struct {
	jobs.ConfigArtifacts
	entered       chan struct{}
	release       chan struct{}
	running, most atomic.Int32
	applied       atomic.Int32
}

func (s *slowApply) Apply(ctx context.Context, jobID string, a *flexd.Artifact, target *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	s.applied.Add(1)
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.ConfigArtifacts.Apply(ctx, jobID, a, target)
}

// TestRestoreCopiedOnceWhileRunsOverlap: a second run of a RUNNING
// restore's job (an arming woken while the run that started it still
// copies: a restore into the same target queued meanwhile wakes the oldest
// one) must not copy beside it. Before, it did, and the data plane
// answered "a restore is already staging": the job ended FAILED although
// its first copy succeeded (seen under load in TestCrashDuringRestores).
func TestRestoreCopiedOnceWhileRunsOverlap(t *testing.T) {
	arts := &slowApply{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := newHarness(t, nil, jobs.Config{Artifacts: arts})
	h.createCluster("src")
	h.createCluster("dst")
	h.advance("0s")
	snap := h.takeSnapshot("src")
	h.advance("0s")
	job := h.restore("src", snap, "dst")
	select {
	case <-arts.entered:
	case <-time.After(time.Minute): // not a speed check: the copy never started
		t.Fatal("the restore's copy never started")
	}
	// Another run of the same job, as a stale arming's would be.
	second := make(chan error, 1)
	go func() {
		second <- h.eng.Handle(context.Background(), flexd.Timer{Kind: flexd.TimerRestore, EntityID: job, Seq: 1 << 40})
	}()
	select {
	case err := <-second:
		t.Logf("second run returned at once: %v", err)
	case <-time.After(500 * time.Millisecond): // gives a wrong second copy time to start
	}
	close(arts.release)
	if err := <-second; err != nil && !waitErr(err) {
		t.Errorf("second run: %v", err)
	}
	eventually(t, "the restore ends", func() bool {
		h.advance("0s")
		s := h.restoreJob("src", job)["status"]
		return s == "COMPLETED" || s == "FAILED"
	})
	if got := h.restoreJob("src", job); got["status"] != "COMPLETED" {
		t.Errorf("restore ended %v (%v), want COMPLETED", got["status"], got["failureReason"])
	}
	if arts.most.Load() != 1 || arts.applied.Load() != 1 {
		t.Errorf("%d copies at once, %d in all; want one", arts.most.Load(), arts.applied.Load())
	}
}

func waitErr(err error) bool { return err == context.Canceled }
