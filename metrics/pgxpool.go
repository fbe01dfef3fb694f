package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// WatchPgxPool exports a pgx pool's statistics, labelled pool=name. The
// store's own pool is a database/sql one (WatchDB); on PostgreSQL the job
// queue (River's riverpgxv5) has a pgxpool of its own, which would
// otherwise be invisible when connections run short.
func (m *Metrics) WatchPgxPool(name string, pool *pgxpool.Pool) {
	m.reg.MustRegister(&pgxPoolCollector{pool: pool, name: name})
}

var (
	pgxConnsDesc = prometheus.NewDesc("flexd_pgxpool_connections",
		"Connections of a pgx pool, by state (acquired, idle, constructing).", []string{"pool", "state"}, nil)
	pgxMaxDesc = prometheus.NewDesc("flexd_pgxpool_max_connections",
		"Most connections a pgx pool opens.", []string{"pool"}, nil)
	pgxAcquiresDesc = prometheus.NewDesc("flexd_pgxpool_acquires_total",
		"Connections acquired from a pgx pool.", []string{"pool"}, nil)
	pgxWaitsDesc = prometheus.NewDesc("flexd_pgxpool_empty_acquires_total",
		"Acquires that had to wait for a connection, the pool being empty.", []string{"pool"}, nil)
	pgxWaitDesc = prometheus.NewDesc("flexd_pgxpool_acquire_seconds_total",
		"Time spent acquiring connections from a pgx pool.", []string{"pool"}, nil)
)

type pgxPoolCollector struct {
	pool *pgxpool.Pool
	name string
}

func (c *pgxPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pgxConnsDesc
	ch <- pgxMaxDesc
	ch <- pgxAcquiresDesc
	ch <- pgxWaitsDesc
	ch <- pgxWaitDesc
}

func (c *pgxPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	for state, n := range map[string]int32{
		"acquired": s.AcquiredConns(), "idle": s.IdleConns(), "constructing": s.ConstructingConns(),
	} {
		ch <- prometheus.MustNewConstMetric(pgxConnsDesc, prometheus.GaugeValue, float64(n), c.name, state)
	}
	ch <- prometheus.MustNewConstMetric(pgxMaxDesc, prometheus.GaugeValue, float64(s.MaxConns()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxAcquiresDesc, prometheus.CounterValue, float64(s.AcquireCount()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxWaitsDesc, prometheus.CounterValue, float64(s.EmptyAcquireCount()), c.name)
	ch <- prometheus.MustNewConstMetric(pgxWaitDesc, prometheus.CounterValue, s.AcquireDuration().Seconds(), c.name)
}
