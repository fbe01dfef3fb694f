//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the data directory's lock file, so that one process at a time
// writes the database at path. flexd serve takes it because it caches what
// it reads (sqlstore.Cached): a write by any other process would go unseen.
// The lock goes with the process, crash or not. Release it with the
// returned function.
func Lock(path string) (release func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
	}
	name := filepath.Join(filepath.Dir(path), "flexd.lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite: %s is in use by another flexd process", filepath.Dir(path))
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", name, err)
	}
	return f.Close, nil
}
