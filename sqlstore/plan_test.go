package sqlstore

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexd/flexd"
)

// TestSQLitePlans checks, with EXPLAIN QUERY PLAN, that the list pages and
// their counts are served from indexes: a page of one parent's rows must
// not cost more as other parents' rows grow. The queries are the ones the
// Store runs, built by the same functions.
func TestSQLitePlans(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "plan.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := New(db, testSQLite)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	id := flexd.NewID(t0)
	page := func(q listQuery) (string, []any) { return q.pageSQL(), append(q.where.args, 100, 0) }
	count := func(q listQuery) (string, []any) { return q.countSQL(), q.where.args }
	type plan struct {
		name  string
		query func() (string, []any)
		want  []string // substrings the plan must contain
	}
	for _, tc := range []plan{
		{"restore jobs page", func() (string, []any) { return page(restoreJobsList(testSQLite, id)) },
			[]string{"SEARCH restore_jobs USING INDEX restore_jobs_cluster_id_id (cluster_id=?)"}},
		{"restore jobs count", func() (string, []any) { return count(restoreJobsList(testSQLite, id)) },
			[]string{"SEARCH restore_jobs USING COVERING INDEX restore_jobs_cluster_id_id (cluster_id=?)"}},
		{"snapshots page", func() (string, []any) { return page(snapshotsList(testSQLite, id)) },
			[]string{"SEARCH snapshots USING INDEX snapshots_cluster_id_id (cluster_id=?)"}},
		{"snapshots count", func() (string, []any) { return count(snapshotsList(testSQLite, id)) },
			[]string{"SEARCH snapshots USING COVERING INDEX snapshots_cluster_id_id (cluster_id=?)"}},
		{"clusters page", func() (string, []any) { return page(flexClustersList(testSQLite, id)) },
			[]string{"SEARCH flex_clusters USING INDEX flex_clusters_group_id_create_date (group_id=?)"}},
		{"clusters count", func() (string, []any) { return count(flexClustersList(testSQLite, id)) },
			[]string{"SEARCH flex_clusters USING COVERING INDEX"}},
		{"projects of an org, with cluster counts", func() (string, []any) {
			return page(projectsList(testSQLite, flexd.ProjectFilter{OrgID: id}))
		}, []string{"SEARCH p USING INDEX projects_org_id_id (org_id=?)", "SEARCH c USING COVERING INDEX"}},
		{"projects by ids", func() (string, []any) {
			return page(projectsList(testSQLite, flexd.ProjectFilter{IDs: []string{id}}))
		}, []string{"SEARCH p USING INDEX", "(id=?)"}},
		{"download by token", func() (string, []any) {
			return "SELECT " + restoreJobColumns + " FROM restore_jobs WHERE download_token = ? AND delivery_type = ?",
				[]any{"token", flexd.DeliveryDownload}
		}, []string{"SEARCH restore_jobs USING INDEX restore_jobs_download_token (download_token=?)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := tc.query()
			got := explain(t, db, q, args)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("plan lacks %q:\n%s", w, got)
				}
			}
			for _, bad := range []string{"SCAN restore_jobs", "SCAN snapshots", "SCAN flex_clusters", "SCAN c", "TEMP B-TREE"} {
				if strings.Contains(got, bad) {
					t.Errorf("plan has %q:\n%s", bad, got)
				}
			}
		})
	}
}

func explain(t *testing.T, db *sql.DB, q string, args []any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
