package sqlstore

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds the schema history. A migration is a file
// migrations/NNNN_name.sql in the SQL both dialects share; where they must
// differ, migrations/sqlite/NNNN_name.sql and migrations/postgres/NNNN_name.sql
// replace the shared file of the same version for their dialect. Adding a
// migration is adding the next-numbered file; applied files are never
// edited, since a database that ran one will not run it again.
//
//go:embed migrations
var migrationFiles embed.FS

// migrationLockKey is the lock (Dialect.MigrationLock) that serializes
// migrations: "flexd" in ASCII, so it is recognizable in pg_locks.
const migrationLockKey int64 = 0x666c657864

// migration is one schema change, applied once, in version order.
type migration struct {
	version int
	name    string // the file's name, recorded in schema_migrations
	sql     string
}

// Migrate brings the schema up to date: it applies, in version order and in
// one transaction, every migration that schema_migrations does not record.
// Running it again, or from several processes at once, is harmless: on
// PostgreSQL the transaction first takes an advisory lock, on SQLite its
// IMMEDIATE begin takes the write lock, so the second process waits and then
// finds nothing left to do. It refuses a database that records a migration
// this build does not know, rather than run against a newer schema.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, s.dialect)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(r runner) error {
		if lock := s.dialect.MigrationLock(); lock != "" {
			if _, err := r.exec(ctx, lock, migrationLockKey); err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
		}
		if _, err := r.exec(ctx,
			"CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, r)
		if err != nil {
			return err
		}
		known := make(map[int]bool, len(ms))
		for _, m := range ms {
			known[m.version] = true
		}
		for v := range applied {
			if !known[v] {
				return fmt.Errorf("database has migration %d, which this flexd does not know: it was migrated by a newer flexd", v)
			}
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			// Run on the transaction directly: a migration is a script of
			// several statements, and its text is not to be rebound.
			if _, err := r.q.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := r.exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name); err != nil {
				return fmt.Errorf("record %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s schema: %w", s.dialect.Name(), err)
	}
	return nil
}

func appliedVersions(ctx context.Context, r runner) (map[int]bool, error) {
	rows, err := r.query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// loadMigrations reads d's migrations from fsys (laid out as migrationFiles
// is) in version order.
func loadMigrations(fsys fs.FS, d Dialect) ([]migration, error) {
	shared, err := readMigrationDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	own, err := readMigrationDir(fsys, path.Join("migrations", d.Name()))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for v, m := range own {
		shared[v] = m
	}
	ms := make([]migration, 0, len(shared))
	for _, m := range shared {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return ms, nil
}

// readMigrationDir reads the NNNN_name.sql files of one directory by version.
func readMigrationDir(fsys fs.FS, dir string) (map[int]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	ms := map[int]migration{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name is not NNNN_name.sql", dir, e.Name())
		}
		if prev, dup := ms[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s in %s share version %d", prev.name, e.Name(), dir, v)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms[v] = migration{version: v, name: e.Name(), sql: string(b)}
	}
	return ms, nil
}
