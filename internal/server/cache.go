package server

import (
	"errors"
	"log/slog"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// lockDataDir takes the data directory's lock: flexd caches what it reads
// (see readThrough), which is right only while no other process writes
// the database, so a second flexd on the same directory refuses to start.
// Where there is no lock, or the cache is off, flexd runs without it.
func lockDataDir(cache bool, dbPath string, log *slog.Logger) (locked bool, release func(), err error) {
	if !cache {
		return false, func() {}, nil
	}
	rel, err := sqlite.Lock(dbPath)
	if errors.Is(err, errors.ErrUnsupported) {
		log.Warn("no data directory lock on this platform: reads are not cached")
		return false, func() {}, nil
	}
	if err != nil {
		return false, nil, err
	}
	return true, func() { _ = rel() }, nil
}

// readThrough is the store the service and authentication use: with the
// lock, the read cache in front of what every request reads (credentials,
// project, cluster, pages), which takes the repeated list path off SQL,
// and the store's versions, by which the API reuses encoded pages. Without
// the lock, the plain store and no versions: other processes' writes would
// not move them.
func readThrough(store *sqlstore.Store, locked bool) (flexd.Store, flexd.Versions) {
	if !locked {
		return store, nil
	}
	return sqlstore.NewCached(store), store.Versions()
}
