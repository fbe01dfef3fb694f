package sqlstore

import (
	"sync"
	"sync/atomic"

	"github.com/flexd/flexd"
)

// versions is the store's flexd.Versions: for each parent, the point of
// the write order at which a committed write last changed it.
//
// The write side is explicit. A write method names the parents of the rows
// it writes with runner.touch, after its statement; inside a transaction
// the touches are collected and applied once the transaction has ended, so
// a write inside a unit of work and a single-statement write count the
// same way, and nothing is inferred from SQL text. Every write of a row
// that a cache may hold must touch its parent (cache.go lists what is
// cached); tables no cache reads (timers, faults, nonces) need none.
//
// The scheme is made to move into the database when several replicas
// share one PostgreSQL database and so need shared invalidation:
//
//   - each write also runs NOTIFY flexd_versions, '<kind>:<id>' for the
//     parents it touched, inside its transaction. PostgreSQL delivers
//     notifications only on commit and in commit order, which is exactly
//     when and how touch applies them here;
//   - every replica LISTENs and applies each notification to its own
//     versions with bump, as if it had made the write; after a lost
//     connection it bumps everything (the zero Parent) and listens again;
//   - a replica's caches are then invalidated by the writes of all, within
//     the notification's delivery time. Where a request must see another
//     replica's write at once (a revocation), a table cache_versions
//     (parent TEXT PRIMARY KEY, version BIGINT) bumped in the same
//     transaction lets a hit confirm its parents in one indexed read.
//
// Versions are per parent, not per table, so two replicas writing
// different clusters never contend on one counter row.
type versions struct {
	seq atomic.Uint64 // the write order: one step per applied bump
	all atomic.Uint64 // the step of the last bump of everything
	// last maps a flexd.Parent to its *atomic.Uint64 step. It holds one
	// small entry per parent ever written by this process.
	last sync.Map
}

var _ flexd.Versions = (*versions)(nil)

// everything is the parent of a write that may touch any row.
var everything = flexd.Parent{}

func (v *versions) Mark() uint64 { return v.seq.Load() }

func (v *versions) ChangedSince(mark uint64, parents ...flexd.Parent) bool {
	if v.all.Load() > mark {
		return true
	}
	for _, p := range parents {
		if c, ok := v.last.Load(p); ok && c.(*atomic.Uint64).Load() > mark {
			return true
		}
	}
	return false
}

// bump records that parents changed, after the write that changed them has
// committed (or rolled back: a bump too many only costs a cache miss).
func (v *versions) bump(parents []flexd.Parent) {
	if len(parents) == 0 {
		return
	}
	n := v.seq.Add(1)
	for _, p := range parents {
		c := &v.all
		if p != everything {
			e, ok := v.last.Load(p)
			if !ok {
				e, _ = v.last.LoadOrStore(p, new(atomic.Uint64))
			}
			c = e.(*atomic.Uint64)
		}
		// Two concurrent bumps may store out of order; a step never goes
		// back, or a reader that marked between them would miss the later.
		for old := c.Load(); old < n && !c.CompareAndSwap(old, n); old = c.Load() {
		}
	}
}

// touch records that this runner's write changed parents: at once outside
// a transaction (call it after the statement), at the end of the
// transaction inside one.
func (r runner) touch(parents ...flexd.Parent) {
	if r.touched != nil {
		*r.touched = append(*r.touched, parents...)
		return
	}
	r.s.versions.bump(parents)
}

// Versions returns the store's record of which parents changed when, for
// caches in front of the store (the read cache, the API's page cache).
func (s *Store) Versions() flexd.Versions { return &s.versions }
