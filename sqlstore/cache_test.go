package sqlstore

import (
	"slices"
	"testing"
)

// TestWrittenTables: a read counts against nothing, an INSERT or UPDATE
// against its table, and anything that may reach further (a DELETE, whose
// foreign keys cascade) against every table.
func TestWrittenTables(t *testing.T) {
	for q, want := range map[string][]string{
		"SELECT id FROM restore_jobs WHERE id = ?":                                  nil,
		"INSERT INTO restore_jobs (id, status) VALUES (?, ?)":                       {"restore_jobs"},
		"INSERT INTO lifecycle_timers(kind) VALUES (?) ON CONFLICT DO UPDATE SET x": {"lifecycle_timers"},
		"  UPDATE access_tokens SET revoked = 1 WHERE digest = ?":                   {"access_tokens"},
		"DELETE FROM flex_clusters WHERE id = ?":                                    {everything},
		"INSERT OR REPLACE INTO t VALUES (?)":                                       {everything},
		"WITH x AS (DELETE FROM t RETURNING *) SELECT 1":                            {everything},
		"": {everything},
	} {
		if got := writtenTables(q); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", q, got, want)
		}
	}
}

// TestStampMoves: a stamp changes with any write to a table it covers or
// to everything, and not with writes elsewhere.
func TestStampMoves(t *testing.T) {
	var c changes
	tables := []string{"restore_jobs"}
	s0 := c.stamp(tables)
	c.bump([]string{"snapshots"})
	if c.stamp(tables) != s0 {
		t.Error("a write to another table moved the stamp")
	}
	c.bump([]string{"restore_jobs"})
	s1 := c.stamp(tables)
	if s1 == s0 {
		t.Error("a write to the table did not move the stamp")
	}
	c.bump([]string{everything})
	if c.stamp(tables) == s1 {
		t.Error("a write to everything did not move the stamp")
	}
}
