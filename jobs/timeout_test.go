package jobs

import (
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// TestDataTimeout: snapshots and restores (the jobs that copy a cluster's
// data) run under Config.DataTimeout, DefaultDataTimeout when unset, and a
// restore's lease follows it; the other kinds keep their own timeouts.
func TestDataTimeout(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{{0, DefaultDataTimeout}, {45 * time.Minute, 45 * time.Minute}} {
		e := &Engine{cfg: Config{DataTimeout: tc.set}}
		if got := e.restoreLease(); got != tc.want {
			t.Errorf("DataTimeout %s: restore lease %s, want %s", tc.set, got, tc.want)
		}
		for _, k := range []flexd.TimerKind{flexd.TimerSnapshot, flexd.TimerRestore} {
			if got := withDataTimeout(k, tc.set).timeout; got != tc.want {
				t.Errorf("DataTimeout %s: %s timeout %s, want %s", tc.set, k, got, tc.want)
			}
		}
		if got := withDataTimeout(flexd.TimerCluster, tc.set).timeout; got != policies[flexd.TimerCluster].timeout {
			t.Errorf("DataTimeout %s changed the provisioning timeout to %s", tc.set, got)
		}
	}
	w := &kindWorker[restoreKind]{policy: withDataTimeout(flexd.TimerRestore, time.Hour)}
	if got := w.Timeout(nil); got != time.Hour {
		t.Errorf("the restore worker's River timeout is %s, want 1h", got)
	}
}
