// Package sqlstore implements flexd.Store once, over database/sql, for every
// SQL database flexd runs on. The sqlite and postgres packages open the
// database with the right driver and settings and hand it to New with
// their Dialect, which covers the few differences between the two.
//
// Timestamps are stored as BIGINT unix seconds (0 for the zero time) and tags
// as JSON text, so both databases store and return exactly the same values.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/seal"
)

var _ flexd.Store = (*Store)(nil)

// Store is a flexd.Store on a SQL database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// rebinds is whether the dialect rewrites placeholders at all.
	rebinds bool
	// queries caches each query text rewritten for the dialect, keyed by its
	// ? form. Query texts are fixed (see Dialect.InJSON), so it stays small.
	queries sync.Map
	// versions records which parents each write changed, for the caches
	// in front of the store (versions.go).
	versions versions
	// health is what Ready knows of recent writes (health.go).
	health health
	// box seals the secrets the store keeps (sealed.go); nil keeps them
	// as given.
	box *seal.Box
}

// New returns a Store on db, which speaks dialect d. It does not migrate the
// schema: call Migrate (the sqlite and postgres Open functions do).
func New(db *sql.DB, d Dialect) *Store {
	return &Store{db: db, dialect: d, rebinds: d.Rebind("?") != "?"}
}

// DB returns the database handle, for components that share the database
// with the store, such as the job queue.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the dialect the store speaks.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database handle given to New.
func (s *Store) Close() error { return s.db.Close() }

// sqlText returns q rewritten for the store's dialect, rewriting each
// distinct query once.
func (s *Store) sqlText(q string) string {
	if !s.rebinds {
		return q
	}
	if v, ok := s.queries.Load(q); ok {
		return v.(string)
	}
	r := s.dialect.Rebind(q)
	s.queries.Store(q, r)
	return r
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runner runs queries written with ? placeholders on the database or inside
// a transaction, so that a method reads the same whichever it is given.
type runner struct {
	s *Store
	q querier
	// touched collects the parents a transaction's writes changed (see
	// touch), applied once it ends; nil outside a transaction, where a
	// touch applies at once.
	touched *[]flexd.Parent
}

func (r runner) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.q.ExecContext(ctx, r.s.sqlText(query), args...)
	r.s.noteWrite(ctx, err)
	return res, err
}

func (r runner) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.s.sqlText(query), args...)
}

func (r runner) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.s.sqlText(query), args...)
}

// run is the runner outside any transaction.
func (s *Store) run() runner { return runner{s: s, q: s.db} }

// inTx runs fn in a write transaction, committing when fn returns nil. On
// SQLite the DSN's _txlock=immediate makes BEGIN take the write lock at once,
// so concurrent writers wait their turn (busy_timeout) instead of failing
// when a read lock cannot be upgraded.
func (s *Store) inTx(ctx context.Context, fn func(r runner) error) error {
	return s.tx(ctx, nil, fn)
}

// readTx runs fn in a read-only transaction that sees one snapshot, so a
// page and its total agree. On SQLite a read-only transaction begins
// DEFERRED and never waits for writers.
func (s *Store) readTx(ctx context.Context, fn func(r runner) error) error {
	return s.tx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}, fn)
}

func (s *Store) tx(ctx context.Context, opts *sql.TxOptions, fn func(r runner) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var touched []flexd.Parent
	// Applied after the commit (or rollback) in any case: a reader that
	// started before it may have cached what it replaced.
	defer func() { s.versions.bump(touched) }()
	if err := fn(runner{s, tx, &touched}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		s.noteWrite(ctx, err)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeErr turns the error of a write into the store's sentinels: a unique
// violation is flexd.ErrConflict, and a foreign key violation means the
// parent row (organization, project, cluster) does not exist, so
// flexd.ErrNotFound. what names the write for the message.
func (s *Store) writeErr(err error, what string) error {
	switch s.dialect.Classify(err) {
	case UniqueViolation:
		return fmt.Errorf("%s: %w: %v", what, flexd.ErrConflict, err)
	case ForeignKeyViolation:
		return fmt.Errorf("%s: parent %w: %v", what, flexd.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// writeOne runs an UPDATE or DELETE of one row by id: flexd.ErrNotFound
// when it matched none, otherwise as writeErr. what names the write for the
// message.
func (s *Store) writeOne(ctx context.Context, r runner, what, query string, args ...any) error {
	res, err := r.exec(ctx, query, args...)
	if err != nil {
		return s.writeErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, flexd.ErrNotFound)
	}
	return nil
}

// writeOneIn runs an UPDATE or DELETE of one row by id, as writeOne, and
// returns the row's column col (RETURNING, which both databases speak):
// the parent the write changes, as the row has it rather than as the
// caller believes.
func (s *Store) writeOneIn(ctx context.Context, r runner, what, col, query string, args ...any) (string, error) {
	var parent string
	err := r.queryRow(ctx, query+" RETURNING "+col, args...).Scan(&parent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%s: %w", what, flexd.ErrNotFound)
	}
	if err != nil {
		return "", s.writeErr(err, what)
	}
	return parent, nil
}
