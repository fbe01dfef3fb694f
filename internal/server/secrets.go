package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/flexd/flexd/seal"
	"github.com/flexd/flexd/sqlstore"
)

// secretKeyFile is the default file of the key that seals the database's
// secrets, in the data directory: beside the database, but not in it, so a
// copy of the database (a backup, a dump) does not carry it.
const secretKeyFile = "secret.key"

// secretsConfig says where the key that seals secrets at rest comes from.
// The key itself is read from the environment only (FLEXD_SECRET_KEY),
// never from a flag: flags show in the process list.
type secretsConfig struct {
	keyFile string
}

func (sc *secretsConfig) register(ef *envFlags) {
	ef.string(&sc.keyFile, "secret-key-file", "FLEXD_SECRET_KEY_FILE", "",
		"file of the key (64 hex digits) that seals the secrets kept in the database; created, mode 0600, when missing (default: <data-dir>/"+secretKeyFile+"; FLEXD_SECRET_KEY gives the key itself instead)")
}

// box returns the seal.Box of the configured key: FLEXD_SECRET_KEY, else
// the key file, made when missing.
func (sc *secretsConfig) box(dataDir string, getenv func(string) string, log *slog.Logger) (*seal.Box, error) {
	if v := getenv("FLEXD_SECRET_KEY"); v != "" {
		k, err := seal.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%w: FLEXD_SECRET_KEY: %v", errUsage, err)
		}
		return seal.New(k)
	}
	path := sc.keyFile
	if path == "" {
		if err := secureDir(dataDir, log); err != nil {
			return nil, err
		}
		path = filepath.Join(dataDir, secretKeyFile)
	}
	k, created, err := seal.LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created the key that seals secrets in the database; keep it with the database's backups, apart from them",
			"file", path)
	} else if err := tightenFile(path, log); err != nil {
		return nil, err
	}
	return seal.New(k)
}

// sealSecrets seals what an earlier flexd stored in clear, and checks that
// the key opens what is sealed already. The store must seal with the key
// (SealWith) already.
func sealSecrets(ctx context.Context, store *sqlstore.Store, log *slog.Logger) error {
	n, err := store.SealSecrets(ctx)
	if errors.Is(err, seal.ErrWrongKey) {
		return fmt.Errorf("%w: the secret key is not the one the database's secrets were sealed with: "+
			"give every flexd on this database the same FLEXD_SECRET_KEY or --secret-key-file", err)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		log.Warn("sealed secrets an earlier flexd stored in clear; download links made before are void", "values", n)
	}
	return nil
}

// secureDir makes dir exist, readable by its owner only, and tightens the
// files in it: the database holds credentials' derived values, the key
// file and the admin key file are secrets. What was looser is logged.
func secureDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		log.Warn("data directory was readable by others; made it 0700", "dir", dir, "mode", info.Mode().Perm().String())
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := tightenFile(filepath.Join(dir, e.Name()), log); err != nil {
				return err
			}
		}
	}
	return nil
}

// tightenFile makes path readable by its owner only, saying so if it was
// not.
func tightenFile(path string, log *slog.Logger) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o077 == 0 {
		return nil
	}
	log.Warn("file was readable by others; made it 0600", "file", path, "mode", info.Mode().Perm().String())
	return os.Chmod(path, 0o600)
}

// createPrivate creates path empty with mode 0600 unless it exists. SQLite
// gives its -wal and -shm files the database file's mode, so creating the
// database this way keeps all three private.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}
