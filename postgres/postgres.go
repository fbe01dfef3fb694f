// Package postgres opens flexd's store on PostgreSQL through pgx's
// database/sql driver.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/flexd/flexd/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Open connects to the database dsn names (a postgres:// URL or key=value
// string), migrates it, and returns the store. Several flexd processes may
// open the same database at once: migrations serialize on an advisory lock.
func Open(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	// Bounded so that a burst of requests queues in the pool rather than
	// exhausting the server's max_connections (100 by default), which
	// other replicas and the job queue share.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := sqlstore.New(db, Dialect)
	if err := s.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}
