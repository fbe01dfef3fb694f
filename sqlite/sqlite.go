// Package sqlite opens flexd's store on a SQLite file, through the pure-Go
// modernc.org/sqlite driver, with the settings that let one file serve
// concurrent requests.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/flexd/flexd/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Open opens (creating it and its directory if need be) the SQLite database
// at path, migrates it, and returns the store. The store's DB() is shared
// with the job queue, so every connection gets the same settings from the
// DSN rather than from statements run on one connection.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		// Each pooled connection to :memory: would be its own empty
		// database, and ? would cut the path where the DSN's options start.
		return nil, fmt.Errorf("sqlite: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
	}
	if err := setWAL(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers run in parallel under WAL; writers queue on busy_timeout. A
	// few connections per core keep both busy without holding many open
	// files; idle ones are kept because each carries its page cache.
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	s := sqlstore.New(db, Dialect)
	if err := s.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// walSwitchTimeout bounds how long Open retries switching a new file to WAL
// while other connections race to do the same.
const walSwitchTimeout = 10 * time.Second

// setWAL switches the file at path to WAL, once, before the pool opens
// connections in parallel. SQLite does not apply busy_timeout to a journal
// mode change: connections (or processes) racing to switch a new file fail
// at once with SQLITE_BUSY. So the switch is retried here, and the DSN's
// journal_mode(WAL) then finds it done; WAL is a property of the file and
// stays set for every later connection.
func setWAL(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, walSwitchTimeout)
	defer cancel()
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("journal mode is %s, not wal", mode)
			}
			return nil
		}
		var e *sqlite.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
			return fmt.Errorf("set journal mode WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set journal mode WAL: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dsn is the driver's name for path with flexd's connection settings:
//   - journal_mode(WAL): readers do not block the writer nor it them.
//   - busy_timeout(10000): a connection waits up to 10 s for the write lock
//     instead of failing with SQLITE_BUSY.
//   - foreign_keys(1): SQLite enforces foreign keys only when asked, per
//     connection.
//   - synchronous(NORMAL): with WAL, durable across application crashes and
//     consistent across power loss, without an fsync per commit.
//   - _txlock=immediate: write transactions take the write lock at BEGIN, so
//     two of them never deadlock upgrading read locks (which SQLite reports
//     as SQLITE_BUSY at once, ignoring busy_timeout). Read-only transactions
//     still begin DEFERRED.
func dsn(path string) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	v.Set("_txlock", "immediate")
	return path + "?" + v.Encode()
}
