package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestJobsAndQueue(t *testing.T) {
	m := metrics.New()
	handle := m.Jobs(func(_ context.Context, t flexd.Timer) error {
		if t.Kind == flexd.TimerSnapshot {
			return errors.New("boom")
		}
		return nil
	})
	_ = handle(t.Context(), flexd.Timer{Kind: flexd.TimerRestore, EntityID: "6e5d4c3b2a190817f6e5d4c3"})
	_ = handle(t.Context(), flexd.Timer{Kind: flexd.TimerSnapshot, EntityID: "6e5d4c3b2a190817f6e5d4c4"})
	m.WatchQueue(func(context.Context) (map[string]int, error) { return map[string]int{"restore": 3}, nil })
	m.ObserveAuth("bearer", "ok")
	m.ObserveRequest("/healthz", "GET", 200, time.Millisecond)

	body := scrape(t, m)
	for _, want := range []string{
		`flexd_jobs_total{kind="restore",outcome="ok"} 1`,
		`flexd_jobs_total{kind="snapshot",outcome="error"} 1`,
		`flexd_job_duration_seconds_count{kind="restore",outcome="ok"} 1`,
		`flexd_queue_depth{kind="restore"} 3`,
		`flexd_auth_attempts_total{outcome="ok",scheme="bearer"} 1`,
		`flexd_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "6e5d4c3b") {
		t.Error("a job's entity id became a label")
	}
}

// TestQueueDepthFailureKeepsScraping: a store that cannot answer leaves the
// gauge out rather than failing the whole scrape.
func TestQueueDepthFailureKeepsScraping(t *testing.T) {
	m := metrics.New()
	m.WatchQueue(func(context.Context) (map[string]int, error) { return nil, errors.New("store down") })
	if body := scrape(t, m); !strings.Contains(body, "go_goroutines") {
		t.Errorf("scrape failed with the queue: %s", body)
	}
}
