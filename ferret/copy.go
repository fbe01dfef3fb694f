package ferret

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	wal  []string // copied database files that came with a -wal (Settle)
}

// Copy copies the live generation's SQLite files (one per database), each
// a transaction-consistent image even while FerretDB keeps it open (see
// copyFile). Callers hold writes (mongowire.Front.PauseWrites) while Copy
// runs, which makes the files consistent with one another; they can resume
// writes as soon as it returns. The copy is a file copy (the kernel's, at
// cp's speed), far faster than reading documents through FerretDB, so the
// write pause is short.
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
// files alone (Dir), for a snapshot that keeps them as they are. A file
// may come with its -wal; Settle (after writes resume) folds each into
// its database file, so Dir then holds one self-contained file per
// database.
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
		dst := filepath.Join(dir, e.Name())
		wal, err := copyFile(ctx, filepath.Join(src, e.Name()), dst)
		if err != nil {
			c.Close()
			return nil, err
		}
		if wal {
			c.wal = append(c.wal, dst)
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

// copyFile copies the WAL database src, and its -wal if it has one, to
// dst (and dst's -wal) with plain file copies, while holding src's write
// lock (BEGIN IMMEDIATE) on a connection of its own, and reports whether
// a -wal was copied. Holding the lock makes the pair one committed state:
// no other connection can append to the -wal, restart it, or delete it
// (our open connection keeps it), so the -wal is fixed while it is read
// and ends with the last commit. The one thing that may still write is a
// passive checkpoint, copying frames of that -wal into src; a page it
// rewrites while we read is torn in dst's copy of src, but that page is
// in the copied -wal, which shadows it when dst is opened (SQLite
// rebuilds the WAL index from the -wal; the -shm is not copied). This is
// a kernel file copy (copy_file_range) instead of SQLite's online backup,
// which copies page by page through the pager: the write pause is the
// copy. The copy is scratch, so it is not fsynced.
func copyFile(ctx context.Context, src, dst string) (wal bool, err error) {
	// mode=rw: a file a swap removed is an error, never a new empty one.
	db, err := sql.Open("sqlite", "file:"+src+"?mode=rw")
	if err != nil {
		return false, fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer conn.Close()
	// FerretDB may hold a lock for a moment (e.g. capped collection
	// clean-up): wait for it rather than fail.
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		var se *sqlite.Error
		if errors.As(err, &se) && (se.Code()&0xff == sqliteBusy || se.Code()&0xff == sqliteLocked) && ctx.Err() == nil {
			time.Sleep(wait)
			continue
		}
		break
	}
	if err != nil {
		return false, fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return false, fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	if !strings.EqualFold(mode, "wal") {
		// Rollback journal modes: the write lock alone keeps src as it
		// is (no writer, so no hot journal); there is no -wal to copy.
		return false, copyRaw(src, dst, true)
	}
	if err := copyRaw(src, dst, true); err != nil {
		return false, err
	}
	if err := copyRaw(src+"-wal", dst+"-wal", false); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// copyRaw copies the file src to the new file dst; must says whether src
// has to exist.
func copyRaw(src, dst string, must bool) error {
	in, err := os.Open(src)
	if err != nil {
		if !must && errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	_, err = io.Copy(out, in) // copy_file_range on Linux
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ferret: copy %s: %w", src, err)
	}
	return nil
}

// Settle folds each copied -wal into its database file (a checkpoint on
// the copy, which is then switched out of WAL mode, removing the -wal):
// call it after writes resume, before the files in Dir are used one by
// one (a tar of the database files). The copy is scratch: no fsync.
func (c *Copy) Settle(ctx context.Context) error {
	for len(c.wal) > 0 {
		path := c.wal[0]
		if err := settle(ctx, path); err != nil {
			return err
		}
		c.wal = c.wal[1:]
	}
	return nil
}

func settle(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw&_pragma=synchronous(OFF)")
	if err != nil {
		return fmt.Errorf("ferret: settle %s: %w", path, err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode=DELETE").Scan(&mode); err != nil {
		return fmt.Errorf("ferret: settle %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "delete") {
		return fmt.Errorf("ferret: settle %s: journal mode is %s", path, mode)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("ferret: settle %s: %w", path, err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ferret: settle %s: the -wal is still there (%v)", path, err)
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
