package flexdtest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/flexd/flexd/internal/server"
)

// template is an empty, fully migrated store, made once per process:
// migrating a new SQLite file (flexd's tables and the job queue's) is most
// of what a first start costs, so each server starts on a copy of it
// instead, which its own start then finds migrated. It holds no
// organization, credential or secret; servers share nothing through it.
var template struct {
	once sync.Once
	db   []byte
	err  error
}

// migratedStore returns the template's bytes, making it at the first call.
func migratedStore() ([]byte, error) {
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "flexdtest-template-")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		if err := server.MigrateSQLite(context.Background(), dir); err != nil {
			template.err = err
			return
		}
		template.db, template.err = os.ReadFile(filepath.Join(dir, server.SQLiteFile))
	})
	return template.db, template.err
}

// seedStore writes the template into dir unless dir holds a store already.
func seedStore(dir string) error {
	path := filepath.Join(dir, server.SQLiteFile)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := migratedStore()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, db, 0o600)
}
