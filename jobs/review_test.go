package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlstore"
)

// Deleting the source cluster of a restore that runs into another cluster
// takes the job with it (jobs are listed under their source). The target
// must not stay UPDATING forever, and a restore from another source queued
// behind it must still run: every job ends, no cluster stays UPDATING.
func TestSourceDeletedDuringRestore(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{RestoreTime: time.Hour})
	h.createCluster("src")
	h.createCluster("other")
	h.createCluster("dst")
	h.advance("0s")
	snap := h.takeSnapshot("src")
	otherSnap := h.takeSnapshot("other")
	h.advance("0s")
	h.restore("src", snap, "dst")
	h.restore("src", snap, "dst") // a second, QUEUED, from the same source
	waiting := h.restore("other", otherSnap, "dst")
	h.advance("0s")
	if got := h.state("dst"); got != "UPDATING" {
		t.Fatalf("target during the restore: %s", got)
	}
	h.ok(204, "DELETE", h.clusterPath("src"), "")
	h.advance("0s")
	h.ok(404, "GET", h.clusterPath("src"), "")
	if got := h.restoreJob("other", waiting)["status"]; got != "RUNNING" {
		t.Fatalf("restore queued behind the deleted source's: %v, want RUNNING", got)
	}
	h.advance("1h")
	if got := h.restoreJob("other", waiting)["status"]; got != "COMPLETED" {
		t.Fatalf("restore queued behind the deleted source's: %v, want COMPLETED", got)
	}
	if got := h.state("dst"); got != "IDLE" {
		t.Fatalf("target after its restores: %s, want IDLE", got)
	}
}

// raceStore runs before once, just before the first unit of work begins:
// a change that lands while a PATCH is on its way in.
type raceStore struct {
	*sqlstore.Store
	before func()
}

func (s *raceStore) InTx(ctx context.Context, fn func(tx flexd.Tx) error) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.InTx(ctx, fn)
}

// A PATCH of a cluster that the engine provisions while the request is on
// its way: the PATCH reads and writes the cluster in one unit of work, so
// provisioning lands wholly before or after it, and the cluster ends IDLE
// with the PATCH's tags, never in the stale CREATING an unconditional write
// used to put back.
func TestPatchRacingProvisioning(t *testing.T) {
	h := newHarness(t, nil, jobs.Config{ProvisionTime: time.Hour})
	h.createCluster("c")
	rs := &raceStore{Store: h.store}
	svc := service.New(rs, h.clock, h.eng, service.Config{DownloadTTL: service.AtlasDownloadTTL})
	srv := httptest.NewServer(atlasapi.NewServer(atlasapi.Config{
		Orgs: svc, Projects: svc, Clusters: svc, Backups: svc, Lifecycle: h.eng,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	defer srv.Close()
	rs.before = func() {
		if _, err := h.eng.AdvanceClock(t.Context(), time.Hour); err != nil {
			t.Error(err)
		}
	}
	req, _ := http.NewRequest("PATCH", srv.URL+h.clusterPath("c"), strings.NewReader(`{"tags":[{"key":"k","value":"v"}]}`))
	req.Header.Set("Accept", flexAccept)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PATCH: %d", res.StatusCode)
	}
	h.advance("0s")
	h.advance("24h")
	c := h.ok(200, "GET", h.clusterPath("c"), "")
	if c["stateName"] != "IDLE" || len(c["tags"].([]any)) != 1 {
		t.Fatalf("cluster a PATCH raced provisioning: %v, want IDLE with the PATCH's tag", c)
	}
}
