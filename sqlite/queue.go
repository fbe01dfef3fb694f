package sqlite

import (
	"database/sql"
	"fmt"
)

// OpenQueueDB opens a second pool on the store's file for the job queue
// (River). It has one connection, as River recommends for SQLite: its
// producers, completer and maintenance services then take turns instead of
// racing for the write lock, and the store's own pool keeps serving API
// reads and writes in parallel. Open the store first: it creates the file
// and switches it to WAL.
func OpenQueueDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open queue pool on %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}
