package ferret

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// Copy is a consistent copy of a backend's data, served by a private
// FerretDB instance, for a snapshot to read at leisure once writes resume.
type Copy struct {
	dir  string
	inst *instance
	once sync.Once
}

// Copy copies the live generation's SQLite files (one per database) with
// SQLite's online backup, each in one step, so each file is a transaction-
// consistent image even while FerretDB keeps it open. Callers hold writes
// (mongowire.Front.PauseWrites) while Copy runs, which makes the files
// consistent with one another; they can resume writes as soon as it
// returns. Copying pages runs at close to file-copy speed, far faster than
// reading documents through FerretDB, so the write pause is short.
//
// copied, if not nil, is called after each file (progress; tests use it to
// act between files).
func (b *Backend) Copy(ctx context.Context, copied func(file string)) (*Copy, error) {
	c, err := b.CopyFiles(ctx, copied)
	if err != nil {
		return nil, err
	}
	in, err := b.m.start(c.dir)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.inst = in
	return c, nil
}

// CopyFiles is Copy without an instance to read the copy through: the
// files alone (Dir), for a snapshot that keeps them as they are.
//
// A restore may swap the backend's data while the copy runs (Staging.Commit
// removes the generation being copied): the copy then starts over from the
// new generation, so it is always one generation's files, whole.
func (b *Backend) CopyFiles(ctx context.Context, copied func(file string)) (*Copy, error) {
	const attempts = 5
	for i := 1; ; i++ {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, ErrClosed
		}
		gen := b.gen
		b.mu.Unlock()
		c, err := b.copyGen(ctx, gen, copied)
		b.mu.Lock()
		swapped, closed := b.gen != gen, b.closed
		b.mu.Unlock()
		switch {
		case closed:
			if c != nil {
				c.Close()
			}
			return nil, ErrClosed
		case !swapped:
			return c, err
		}
		if c != nil {
			c.Close()
		}
		if ctx.Err() != nil || i == attempts {
			return nil, fmt.Errorf("ferret: copy %s: the data was swapped by restores %d times while it was copied", b.id, i)
		}
	}
}

// copyGen copies generation gen's files into a new copy directory.
func (b *Backend) copyGen(ctx context.Context, gen int, copied func(file string)) (*Copy, error) {
	src := b.genDir(gen)
	var suffix [6]byte
	rand.Read(suffix[:])
	dir := filepath.Join(b.dir, "copy-"+hex.EncodeToString(suffix[:]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ferret: copy: %w", err)
	}
	c := &Copy{dir: dir}
	ents, err := os.ReadDir(src)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("ferret: copy: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sqlite") {
			continue // -wal and -shm: the backup reads through them
		}
		if err := ctx.Err(); err != nil {
			c.Close()
			return nil, err
		}
		if err := backupFile(ctx, filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			c.Close()
			return nil, err
		}
		if copied != nil {
			copied(e.Name())
		}
	}
	return c, nil
}

// Dir is the directory of the copy's SQLite files (one per database).
func (c *Copy) Dir() string { return c.dir }

// OpenFiles serves the SQLite files in dir (as CopyFiles or a snapshot
// left them) through a private FerretDB instance, to be read; Close stops
// it and removes dir.
func (m *Manager) OpenFiles(dir string) (*Copy, error) {
	in, err := m.start(dir)
	if err != nil {
		return nil, err
	}
	return &Copy{dir: dir, inst: in}, nil
}

type restorer interface {
	NewRestore(srcURI string) (*sqlite.Backup, error)
}

// backupFile copies the database src into the new file dst with SQLite's
// online backup, as one step. The copy is a scratch file (a snapshot tars
// it and removes it), so it is written without a journal and without
// fsync: the backup runs while writes are held, and syncing a file that
// is deleted a moment later only makes the pause longer. It is driven
// from dst's side (a restore into dst) because that is the connection
// whose pragmas can be set.
func backupFile(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+dst+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err != nil {
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(restorer)
		if !ok {
			return errors.New("sqlite driver without online backup")
		}
		// mode=rw: a file a swap removed is an error, never a new empty one.
		b, err := r.NewRestore("file:" + src + "?mode=rw")
		if err != nil {
			return err
		}
		// FerretDB may hold a lock for a moment (e.g. capped collection
		// clean-up): wait for it rather than fail.
		for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
			more, err := b.Step(-1)
			var se *sqlite.Error
			if errors.As(err, &se) && (se.Code()&0xff == sqliteBusy || se.Code()&0xff == sqliteLocked) && ctx.Err() == nil {
				time.Sleep(wait)
				continue
			}
			ferr := b.Finish()
			if err == nil && more {
				err = errors.New("backup did not complete in one step")
			}
			return errors.Join(err, ferr)
		}
	})
	if err != nil {
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	return nil
}

// SQLite's primary result codes for a database another connection holds.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// DialContext connects to the copy's instance (see Backend.DialContext).
func (c *Copy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.inst.dial(ctx)
}

// Close stops the copy's instance and removes its files.
func (c *Copy) Close() {
	c.once.Do(func() {
		if c.inst != nil {
			c.inst.stop()
		}
		os.RemoveAll(c.dir)
	})
}
