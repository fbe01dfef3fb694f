package server

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/metrics"
)

// obsConfig holds what operators use to see how flexd is doing.
type obsConfig struct {
	metrics bool
	pprof   string
	// readCache turns the read cache (and the data directory lock it
	// needs) on; off lets several processes share a SQLite file, slowly.
	readCache bool
}

func (oc *obsConfig) register(ef *envFlags) {
	ef.bool(&oc.metrics, "metrics", "FLEXD_METRICS", true, "serve Prometheus metrics at GET /metrics on the API listener")
	ef.bool(&oc.readCache, "read-cache", "FLEXD_READ_CACHE", true, "cache what requests read (credentials, projects, clusters, pages); needs the data directory to itself (SQLite only: never with --postgres-url)")
	ef.string(&oc.pprof, "pprof", "FLEXD_PPROF", "", "address of a separate listener for net/http/pprof, e.g. 127.0.0.1:6060 (default: off)")
}

// queueStore is what the queue depth is read from: the lifecycle timers
// that are due and not yet done.
type queueStore interface {
	DueTimers(ctx context.Context, now time.Time, limit int) ([]flexd.Timer, error)
}

// maxQueueDepth bounds the scrape's read of due timers; a deeper queue
// shows as this many.
const maxQueueDepth = 10000

// newMetrics returns the metrics (nil when turned off), watching the
// store's connection pool and the lifecycle queue: the timers that are due
// and not yet done, by kind.
func (oc *obsConfig) newMetrics(db *sql.DB, q queueStore, clock flexd.Clock) *metrics.Metrics {
	if !oc.metrics {
		return nil
	}
	m := metrics.New()
	m.WatchDB(db)
	m.WatchQueue(func(ctx context.Context) (map[string]int, error) {
		due, err := q.DueTimers(ctx, clock.Now(), maxQueueDepth)
		if err != nil {
			return nil, err
		}
		depth := map[string]int{}
		for _, k := range []flexd.TimerKind{flexd.TimerCluster, flexd.TimerSchedule, flexd.TimerSnapshot, flexd.TimerRestore} {
			depth[string(k)] = 0
		}
		for _, t := range due {
			depth[string(t.Kind)]++
		}
		return depth, nil
	})
	return m
}

// jobMetrics is m's wrapper of the lifecycle work, for jobs.Config: none
// when metrics are off.
func jobMetrics(m *metrics.Metrics) func(jobs.Handler) jobs.Handler {
	if m == nil {
		return nil
	}
	return func(h jobs.Handler) jobs.Handler { return m.Jobs(h) }
}

// observer is m as the API's Observer: none when metrics are off.
func observer(m *metrics.Metrics) atlasapi.Observer {
	if m == nil {
		return nil
	}
	return m
}

// withMetrics serves GET /metrics in front of the API, and counts the
// API's requests in flight. It is matched on the
// exact path before the API sees the request: the API handles every other
// path (an outer ServeMux would redirect unclean paths the API answers
// itself).
func withMetrics(m *metrics.Metrics, api http.Handler) http.Handler {
	if m == nil {
		return api
	}
	mh := m.Handler()
	api = m.InFlight(api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			mh.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// startPprof serves net/http/pprof on its own listener, so profiling is
// never reachable through the API's address. It returns a function that
// stops it.
func startPprof(addr string, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("pprof listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
