package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// The engine tests drive flexd the way users do: through the HTTP API of
// a whole server (atlasapi over the service over SQLite), with the River
// engine behind it and, mostly, a manual clock that only the API moves.

const flexAccept = testkit.AcceptFlex

type harness struct {
	t          *testing.T
	store      *sqlstore.Store
	startQueue func(*jobs.Engine) func()
	clock      flexd.Clock
	cfg        jobs.Config
	eng        *jobs.Engine
	stopFn     func()
	srv        *httptest.Server
	group      string
	// log is what the engine and server logged at WARN and above: the
	// cause of a 500 or of failing work, shown when the test fails.
	log *testkit.SyncBuffer
}

// newHarness starts a server on a fresh SQLite file. A nil clock is a
// manual one.
func newHarness(t *testing.T, clock flexd.Clock, cfg jobs.Config) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flexd.db")
	store, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return startHarness(t, store, clock, cfg, func(eng *jobs.Engine) func() {
		db, err := sqlite.OpenQueueDB(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := jobs.StartOn(t.Context(), eng, sqlite.QueueDriver(db)); err != nil {
			t.Fatal(err)
		}
		return func() { _ = db.Close() }
	})
}

// startHarness starts a server on store whose engine is started by
// startQueue (which returns what to close once the engine stopped).
func startHarness(t *testing.T, store *sqlstore.Store, clock flexd.Clock, cfg jobs.Config, startQueue func(*jobs.Engine) func()) *harness {
	t.Helper()
	if clock == nil {
		clock = jobs.NewManualClock(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	}
	h := &harness{t: t, store: store, clock: clock, cfg: cfg, startQueue: startQueue, log: &testkit.SyncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() && h.log.String() != "" {
			t.Logf("flexd logged (WARN and above):\n%s", h.log)
		}
	})
	h.start()
	t.Cleanup(h.stop)
	h.group = h.ok(201, "POST", "/api/atlas/v2/groups", `{"name":"p"}`)["id"].(string)
	return h
}

// start starts an engine and a server on the harness's store.
func (h *harness) start() {
	t := h.t
	t.Helper()
	cfg := h.cfg
	cfg.Logger = h.logger()
	h.eng = jobs.New(h.store, h.clock, cfg)
	closeQueue := h.startQueue(h.eng)
	svc := service.New(h.store, h.clock, h.eng, service.Config{DownloadTTL: service.AtlasDownloadTTL})
	if err := svc.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(atlasapi.NewServer(atlasapi.Config{
		Orgs: svc, Projects: svc, Clusters: svc, Backups: svc, Lifecycle: h.eng, Logger: cfg.Logger,
	}))
	eng := h.eng
	h.stopFn = func() {
		h.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			t.Errorf("stop engine: %v", err)
		}
		closeQueue()
	}
}

func (h *harness) stop() {
	if h.stopFn != nil {
		h.stopFn()
		h.stopFn = nil
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

func (h *harness) call(method, path, body string) response {
	h.t.Helper()
	req := testkit.Request(h.t, method, h.srv.URL+path, body, "")
	req.Header.Set("Accept", testkit.AcceptFor(path))
	res := testkit.Do(h.t, req)
	return response{status: res.Status, header: res.Header, body: res.Body}
}

// ok makes a call that must answer status and returns its JSON body.
func (h *harness) ok(status int, method, path, body string) map[string]any {
	h.t.Helper()
	res := h.call(method, path, body)
	if res.status != status {
		h.t.Fatalf("%s %s: got %d, want %d: %s", method, path, res.status, status, res.body)
	}
	if len(bytes.TrimSpace(res.body)) == 0 {
		return nil
	}
	return res.json(h.t)
}

func (h *harness) clusterPath(name string) string {
	return "/api/atlas/v2/groups/" + h.group + "/flexClusters/" + name
}

func (h *harness) createCluster(name string) map[string]any {
	h.t.Helper()
	return h.ok(201, "POST", "/api/atlas/v2/groups/"+h.group+"/flexClusters",
		`{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
}

func (h *harness) state(name string) string {
	h.t.Helper()
	return h.ok(200, "GET", h.clusterPath(name), "")["stateName"].(string)
}

func (h *harness) advance(by string) {
	h.t.Helper()
	h.ok(200, "POST", "/_flexd/clock:advance", `{"by":"`+by+`"}`)
}

func (h *harness) takeSnapshot(cluster string) string {
	h.t.Helper()
	return h.ok(201, "POST", "/_flexd/groups/"+h.group+"/flexClusters/"+cluster+"/snapshots", "")["id"].(string)
}

func (h *harness) snapshots(cluster string) []map[string]any {
	h.t.Helper()
	return results(h.ok(200, "GET", h.clusterPath(cluster)+"/backup/snapshots", ""))
}

func (h *harness) restore(src, snapshotID, target string) string {
	h.t.Helper()
	return h.ok(200, "POST", h.clusterPath(src)+"/backup/restoreJobs",
		`{"snapshotId":"`+snapshotID+`","targetDeploymentItemName":"`+target+`"}`)["id"].(string)
}

func (h *harness) restoreJob(src, id string) map[string]any {
	h.t.Helper()
	return h.ok(200, "GET", h.clusterPath(src)+"/backup/restoreJobs/"+id, "")
}

func results(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range m["results"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// eventually polls cond until it holds or 10 s pass: work on a real clock
// runs in the background.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, 10*time.Second, cond)
}

// logger is what the engine and server under test log to: everything to
// stderr when FLEXD_TEST_LOG is set, and otherwise WARN and above into
// h.log, which a failing test prints (an internal error's cause is logged,
// never answered).
func (h *harness) logger() *slog.Logger {
	if os.Getenv("FLEXD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
