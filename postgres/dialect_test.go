package postgres

import "testing"

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (SELECT value FROM json_each(?)) LIMIT ? OFFSET ?"
	want := "SELECT a FROM t WHERE b = $1 AND c IN (SELECT value FROM json_each($2)) LIMIT $3 OFFSET $4"
	if got := Dialect.Rebind(q); got != want {
		t.Errorf("postgres rebind:\n got %s\nwant %s", got, want)
	}
}
