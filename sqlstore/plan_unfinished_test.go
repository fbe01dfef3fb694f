package sqlstore

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL plans

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/postgres/pgtest"
)

// TestUnfinishedWorkPlans checks that the start-up reconcile reads only the
// unfinished items, from the partial indexes of 0004_unfinished_work.sql:
// on a store of a million finished restore jobs it must cost what is
// unfinished. Both databases use a partial index only when the query
// repeats its WHERE literally, which an innocent edit of either breaks.
func TestUnfinishedWorkPlans(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "plan.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := New(db, SQLite).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, q := range unfinishedWorkQueries() {
		got := explain(t, db, q.query, nil)
		// The search of the item's own table (not the timers') must be
		// over its partial index, and covered by it.
		want := "USING COVERING INDEX " + unfinishedIndex(q.kind)
		if !strings.Contains(got, want) {
			t.Errorf("%s: plan lacks %q:\n%s", q.kind, want, got)
		}
	}
}

// TestUnfinishedStatusLists checks the literal lists against the domain:
// they are exactly the statuses that are not final.
func TestUnfinishedStatusLists(t *testing.T) {
	for _, s := range []flexd.JobStatus{flexd.StatusPending, flexd.StatusQueued, flexd.StatusRunning, flexd.StatusFailed, flexd.StatusCompleted} {
		if listed := strings.Contains(unfinishedJobStatuses, "'"+string(s)+"'"); listed == s.Done() {
			t.Errorf("status %s: listed %v, done %v", s, listed, s.Done())
		}
	}
	for s, busy := range map[flexd.ClusterState]bool{flexd.ClusterIdle: false, flexd.ClusterRepairing: false,
		flexd.ClusterCreating: true, flexd.ClusterUpdating: true, flexd.ClusterDeleting: true} {
		if listed := strings.Contains(unfinishedClusterStates, "'"+string(s)+"'"); listed != busy {
			t.Errorf("cluster state %s: listed %v", s, listed)
		}
	}
}

// TestPostgresUnfinishedWorkPlans is TestUnfinishedWorkPlans on
// PostgreSQL. Its tables are empty, so sequential scans are priced out:
// the plan then uses a partial index only if PostgreSQL can prove that the
// query's WHERE implies the index's.
func TestPostgresUnfinishedWorkPlans(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := New(db, Postgres).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, q := range unfinishedWorkQueries() {
		rows, err := conn.QueryContext(t.Context(), "EXPLAIN "+q.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		got := strings.Join(plan, "\n")
		// An index scan, bitmap or not, whichever the (empty) statistics
		// suggest; never the whole table.
		if !strings.Contains(got, " "+unfinishedIndex(q.kind)+" ") || strings.Contains(got, "Seq Scan") {
			t.Errorf("%s: plan does not read %s alone:\n%s", q.kind, unfinishedIndex(q.kind), got)
		}
	}
}

func unfinishedIndex(kind flexd.TimerKind) string {
	return map[flexd.TimerKind]string{flexd.TimerCluster: "flex_clusters_unfinished",
		flexd.TimerSnapshot: "snapshots_unfinished", flexd.TimerRestore: "restore_jobs_unfinished"}[kind]
}
