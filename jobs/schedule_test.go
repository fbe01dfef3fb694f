package jobs_test

import (
	"testing"
	"time"

	"github.com/flexd/flexd/jobs"
)

var daily = jobs.Config{SnapshotInterval: 24 * time.Hour, SnapshotRetention: 8}

func TestScheduledSnapshots(t *testing.T) {
	h := newHarness(t, nil, daily)
	created := h.createCluster("c")["createDate"].(string)

	h.advance("23h59m")
	if n := len(h.snapshots("c")); n != 0 {
		t.Fatalf("day 1: %d snapshots, want none", n)
	}
	h.advance("1m")
	snaps := h.snapshots("c")
	if len(snaps) != 1 {
		t.Fatalf("after 24h: %d snapshots, want 1", len(snaps))
	}
	s := snaps[0]
	want := mustTime(t, created).Add(24 * time.Hour)
	if s["status"] != "COMPLETED" || mustTime(t, s["scheduledTime"].(string)) != want ||
		s["startTime"] == nil || s["finishTime"] == nil || s["mongoDBVersion"] != "8.0.13" ||
		mustTime(t, s["expiration"].(string)) != want.Add(8*24*time.Hour) {
		t.Errorf("first snapshot %v, want scheduled at %v", s, want)
	}

	h.advance("192h") // 9 days after creation: 9 taken, the newest 8 kept
	snaps = h.snapshots("c")
	if len(snaps) != 8 {
		t.Fatalf("after 9 days: %d snapshots, want 8", len(snaps))
	}
	for i, s := range snaps { // newest first, each at the creation's time of day
		if got, want := mustTime(t, s["scheduledTime"].(string)), mustTime(t, created).Add(time.Duration(9-i)*24*time.Hour); got != want {
			t.Errorf("snapshot %d scheduled %v, want %v", i, got, want)
		}
	}
}

func TestCatchUpSnapshotAfterDowntime(t *testing.T) {
	h := newHarness(t, nil, daily)
	created := mustTime(t, h.createCluster("c")["createDate"].(string))
	h.advance("24h")

	// flexd is down for three and a half days, then starts again.
	h.stop()
	h.clock.(*jobs.ManualClock).Set(h.clock.Now().Add(84 * time.Hour))
	h.start()
	h.advance("0s")
	snaps := h.snapshots("c")
	if len(snaps) != 2 {
		t.Fatalf("after downtime: %d snapshots, want 2 (one catch-up)", len(snaps))
	}
	if got, want := mustTime(t, snaps[0]["scheduledTime"].(string)), created.Add(4*24*time.Hour); got != want {
		t.Errorf("catch-up scheduled %v, want the latest slot %v", got, want)
	}
	h.advance("11h") // the schedule keeps its time of day: next at day 5
	if n := len(h.snapshots("c")); n != 2 {
		t.Errorf("an hour before day 5: %d snapshots, want 2", n)
	}
	h.advance("1h")
	if n := len(h.snapshots("c")); n != 3 {
		t.Errorf("at day 5: %d snapshots, want 3", n)
	}
}

func TestRetentionKeepsSnapshotsInUse(t *testing.T) {
	cfg := daily
	cfg.SnapshotRetention = 2
	cfg.RestoreTime = 72 * time.Hour
	h := newHarness(t, nil, cfg)
	h.createCluster("src")
	h.createCluster("dst")
	h.advance("24h")
	oldest := h.snapshots("src")[0]["id"].(string)
	job := h.restore("src", oldest, "dst")
	h.advance("0s")
	if got := h.restoreJob("src", job)["status"]; got != "RUNNING" {
		t.Fatalf("restore %v, want RUNNING", got)
	}

	h.advance("48h") // 3 taken, retention 2, but the restore needs the oldest
	ids := snapshotIDs(h.snapshots("src"))
	if len(ids) != 3 || ids[2] != oldest {
		t.Fatalf("while the restore runs: %v, want 3 with %s kept", ids, oldest)
	}
	h.advance("24h") // the restore ends; the next prune drops the oldest
	if got := h.restoreJob("src", job)["status"]; got != "COMPLETED" {
		t.Fatalf("restore %v, want COMPLETED", got)
	}
	ids = snapshotIDs(h.snapshots("src"))
	if len(ids) != 2 || contains(ids, oldest) {
		t.Fatalf("after the restore: %v, want the newest 2", ids)
	}
}

func TestAdvanceNeedsManualClock(t *testing.T) {
	h := newHarness(t, realClock{}, jobs.Config{})
	res := h.call("POST", "/_flexd/clock:advance", `{"by":"1h"}`)
	if res.status != 400 || res.json(t)["errorCode"] != "FEATURE_UNSUPPORTED" {
		t.Errorf("advance a real clock: %d %s", res.status, res.body)
	}
	if c := h.ok(200, "GET", "/_flexd/clock", ""); c["manual"] != false || c["now"] == nil {
		t.Errorf("clock %v", c)
	}
	m := newHarness(t, nil, jobs.Config{})
	for _, body := range []string{`{"by":"-1h"}`, `{"by":"soon"}`, `{}`} {
		if res := m.call("POST", "/_flexd/clock:advance", body); res.status != 400 {
			t.Errorf("advance %s: %d %s", body, res.status, res.body)
		}
	}
	before := mustTime(t, m.ok(200, "GET", "/_flexd/clock", "")["now"].(string))
	after := mustTime(t, m.ok(200, "POST", "/_flexd/clock:advance", `{"by":"90m"}`)["now"].(string))
	if after.Sub(before) != 90*time.Minute {
		t.Errorf("advanced from %v to %v", before, after)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func snapshotIDs(snaps []map[string]any) []string {
	ids := make([]string, len(snaps))
	for i, s := range snaps {
		ids[i] = s["id"].(string)
	}
	return ids
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// realClock is the wall clock in whole seconds.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC().Truncate(time.Second) }
