// Package metrics exposes flexd's Prometheus metrics: HTTP requests by route
// pattern, authentication outcomes, lifecycle jobs, queue depth, the store's
// connection pool, and the Go runtime and process. It is the one package
// that imports the Prometheus client; the rest of flexd reports through
// small interfaces (atlasapi.Observer, the job engine's hooks) that
// *Metrics implements, so they stay free of the dependency.
//
// Labels are bounded by construction: routes are ServeMux patterns from the
// route table (never raw paths, which carry ids), methods and statuses are
// HTTP's, and the rest are small fixed vocabularies.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/flexd/flexd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets span what flexd answers in: tens of microseconds for a
// cached page, up to seconds for a slow store.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// jobBuckets span a lifecycle job: milliseconds with zero knobs, minutes
// with Atlas-like timings.
var jobBuckets = []float64{.001, .005, .025, .1, .5, 1, 5, 30, 60, 300, 900}

// Metrics holds flexd's collectors in their own registry, so that /metrics
// shows exactly flexd's families and tests can build as many as they like.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	auth        *prometheus.CounterVec
	jobs        *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec
	inFlight    prometheus.Gauge
}

// New returns the metrics with the Go runtime and process collectors
// registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flexd_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flexd_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flexd_auth_attempts_total",
			Help: "Authentications of API requests, by scheme (bearer, digest, basic, none, other) and outcome (ok, unauthenticated, rejected, error).",
		}, []string{"scheme", "outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flexd_jobs_total",
			Help: "Lifecycle jobs run, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flexd_job_duration_seconds",
			Help:    "Time a lifecycle job took to run, by kind and outcome.",
			Buckets: jobBuckets,
		}, []string{"kind", "outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flexd_http_requests_in_flight",
			Help: "API requests being answered now (GET /metrics itself not counted); what a graceful shutdown waits for.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.auth, m.jobs, m.jobDuration, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where further collectors go.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// InFlight counts the requests h is answering in flexd_http_requests_in_flight.
func (m *Metrics) InFlight(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerInFlight(m.inFlight, h)
}

// ObserveRequest records one answered request. route is the ServeMux
// pattern that matched ("unmatched" for none).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// statusLabel avoids an allocation for the statuses flexd answers most.
func statusLabel(status int) string {
	switch status {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 401:
		return "401"
	case 404:
		return "404"
	}
	return strconv.Itoa(status)
}

// ObserveAuth records one authentication.
func (m *Metrics) ObserveAuth(scheme, outcome string) {
	m.auth.WithLabelValues(scheme, outcome).Inc()
}

// ObserveJob records one lifecycle job run: kind is what it moved along
// (cluster, snapshot, restore, schedule), outcome how it ended (completed,
// failed, retried).
func (m *Metrics) ObserveJob(kind, outcome string, d time.Duration) {
	m.jobs.WithLabelValues(kind, outcome).Inc()
	m.jobDuration.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// WatchDB exports db's connection pool statistics (open, in use, idle,
// waits) as the go_sql_* metrics, labelled db_name="flexd".
func (m *Metrics) WatchDB(db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, "flexd"))
}

// WatchQueue exports the job queue's depth, by kind, as flexd_queue_depth.
// depth is called at each scrape; an error leaves the gauge out of that
// scrape rather than reporting a made-up zero.
func (m *Metrics) WatchQueue(depth func(ctx context.Context) (map[string]int, error)) {
	m.reg.MustRegister(&queueCollector{depth: depth})
}

var queueDesc = prometheus.NewDesc("flexd_queue_depth",
	"Lifecycle work waiting to run, by kind.", []string{"kind"}, nil)

type queueCollector struct {
	depth func(ctx context.Context) (map[string]int, error)
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depth, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	for kind, n := range depth {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), kind)
	}
}

// Jobs wraps the function that runs a lifecycle timer's work, so that each
// run is counted and timed by its kind; a run that returns an error (and
// is retried by the queue) has outcome "error".
func (m *Metrics) Jobs(handle func(context.Context, flexd.Timer) error) func(context.Context, flexd.Timer) error {
	return func(ctx context.Context, t flexd.Timer) error {
		start := time.Now()
		err := handle(ctx, t)
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m.ObserveJob(string(t.Kind), outcome, time.Since(start))
		return err
	}
}
