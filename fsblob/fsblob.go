// Package fsblob is the file implementation of flexd.BlobStore: one file per
// blob under a root directory (the data dir's "blobs"), written to a
// temporary name, fsynced, renamed into place and the directory fsynced, so a
// blob is either whole and durable or absent, even across a crash.
package fsblob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flexd/flexd"
)

// tempPrefix marks files a Put has not finished; List never returns them and
// Sweep removes them.
const tempPrefix = ".tmp-"

// Store keeps blobs as files under Root.
type Store struct {
	root string
}

// Open returns a Store rooted at dir, creating it (0700) if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	return &Store{root: abs}, nil
}

var _ flexd.BlobStore = (*Store)(nil)

// ValidKey reports whether key is acceptable: see flexd.BlobStore.
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, tempPrefix) {
			return false
		}
		for _, c := range seg {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
			if !ok {
				return false
			}
		}
	}
	return true
}

func (s *Store) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("fsblob: %w: %q", flexd.ErrBadBlobKey, key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements flexd.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, string, error) {
	dst, err := s.path(key)
	if err != nil {
		return 0, "", err
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	// A large buffer: an artifact is hundreds of MB, and with 32 KB
	// reads the syscalls and hand-overs from a pipe cost more than the
	// hashing.
	n, err := io.CopyBuffer(hashingWriter{f, h}, flexd.ContextReader(ctx, r), make([]byte, 1<<20))
	if err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return 0, "", fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Get implements flexd.BlobStore.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fsblob: get %s: %w", key, flexd.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsblob: get %s: %w", key, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("fsblob: get %s: %w", key, flexd.ErrNotFound)
	}
	return f, nil
}

// Delete implements flexd.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fsblob: delete %s: %w", key, err)
	}
	return syncDir(filepath.Dir(p))
}

// List implements flexd.BlobStore.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) && ValidKey(key) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsblob: list: %w", err)
	}
	sort.Strings(keys)
	return keys, nil
}

// Sweep removes the temporary files of Puts a crash interrupted. Call it at
// start-up, before any Put runs.
func (s *Store) Sweep(ctx context.Context) error {
	return filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), tempPrefix) {
			return os.Remove(p)
		}
		return nil
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hashingWriter writes each chunk to f and to h at the same time (h on
// another goroutine), so a Put costs the slower of the write and the
// SHA-256, not their sum. Write returns once both are done with p.
type hashingWriter struct {
	f io.Writer
	h io.Writer
}

func (w hashingWriter) Write(p []byte) (int, error) {
	if len(p) < 64<<10 {
		w.h.Write(p)
		return w.f.Write(p)
	}
	done := make(chan struct{})
	go func() {
		w.h.Write(p) // a hash.Hash never fails
		close(done)
	}()
	n, err := w.f.Write(p)
	<-done
	return n, err
}
