package sqlstore

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flexd/flexd"
)

// changes counts the writes to each table of the store, so that a cached
// read can tell in a few atomic loads whether anything it read has changed
// since. Every write goes through runner.exec, which names the table it
// writes (see writtenTables); a write that may reach beyond one table (a
// DELETE, whose foreign keys cascade, or anything unusual) counts against
// all of them. A count is taken after the write committed, and a cached
// read takes its stamp before it reads, so a read that raced a write is
// stale at once, never a moment later.
type changes struct {
	all    atomic.Uint64
	tables sync.Map // table name → *atomic.Uint64
	parsed sync.Map // statement → []string
}

// everything marks a write counted against every table.
const everything = "*"

// wrote counts a write by query: at once, or at the end of the runner's
// transaction.
func (r runner) wrote(query string) {
	t := r.s.changes.written(query)
	if t == nil {
		return
	}
	if r.written != nil {
		*r.written = append(*r.written, t...)
		return
	}
	r.s.changes.bump(t)
}

func (c *changes) bump(tables []string) {
	for _, t := range tables {
		if t == everything {
			c.all.Add(1)
		} else {
			c.counter(t).Add(1)
		}
	}
}

func (c *changes) counter(table string) *atomic.Uint64 {
	if v, ok := c.tables.Load(table); ok {
		return v.(*atomic.Uint64)
	}
	v, _ := c.tables.LoadOrStore(table, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// stamp sums the counts of tables and of everything. Counts only grow, so
// an equal sum means none of them changed.
func (c *changes) stamp(tables []string) uint64 {
	n := c.all.Load()
	for _, t := range tables {
		n += c.counter(t).Load()
	}
	return n
}

// written returns the tables a statement writes (nil for a read), parsing
// each distinct statement text once: the store's statements are fixed
// strings.
func (c *changes) written(query string) []string {
	if v, ok := c.parsed.Load(query); ok {
		return v.([]string)
	}
	t := writtenTables(query)
	c.parsed.Store(query, t)
	return t
}

// writtenTables classifies a statement: SELECT reads; INSERT INTO t and
// UPDATE t write t (the schema has no triggers and no ON UPDATE cascades);
// everything else, DELETE included, may write anything.
func writtenTables(query string) []string {
	f := strings.Fields(query)
	if len(f) == 0 {
		return []string{everything}
	}
	table := func(s string) []string {
		s, _, _ = strings.Cut(s, "(")
		return []string{strings.ToLower(strings.Trim(s, `"`))}
	}
	switch strings.ToUpper(f[0]) {
	case "SELECT":
		return nil
	case "INSERT":
		if len(f) > 2 && strings.EqualFold(f[1], "INTO") {
			return table(f[2])
		}
	case "UPDATE":
		if len(f) > 1 {
			return table(f[1])
		}
	}
	return []string{everything}
}

// Cached is the store with a read cache in front of what every API request
// reads: the caller's token, service account or API key, the project and
// the cluster of the path, and the pages of restore jobs and snapshots. An
// entry is used only while no table it was read from has been written
// since, so the cache never answers what the database would not: a revoked
// token fails, a new job shows, at once.
//
// That holds only while this process makes every write to the database.
// Use Cached only when it does (flexd serve locks its SQLite data
// directory); with several replicas on one PostgreSQL database, use the
// Store itself.
type Cached struct {
	*Store
	projects  *memo[string, flexd.Project]
	clusters  *memo[[2]string, flexd.FlexCluster]
	jobPages  *memo[pageKey, pageOf[flexd.RestoreJob]]
	jobs      *memo[[2]string, flexd.RestoreJob]
	snapPages *memo[pageKey, pageOf[flexd.Snapshot]]
	tokens    *memo[string, flexd.AccessToken]
	accounts  *memo[string, flexd.ServiceAccount]
	keys      *memo[string, flexd.APIKey]
	keysByPub *memo[string, flexd.APIKey]
}

// NewCached returns s with the read cache.
func NewCached(s *Store) *Cached {
	// A cached page of 100 jobs holds about 50 KB; single entries are
	// small. Full maps start over (see memo).
	const entries, pages = 4096, 128
	return &Cached{
		Store:     s,
		projects:  newMemo[string, flexd.Project](entries, "projects", "flex_clusters"),
		clusters:  newMemo[[2]string, flexd.FlexCluster](entries, "flex_clusters"),
		jobPages:  newMemo[pageKey, pageOf[flexd.RestoreJob]](pages, "restore_jobs"),
		jobs:      newMemo[[2]string, flexd.RestoreJob](entries, "restore_jobs"),
		snapPages: newMemo[pageKey, pageOf[flexd.Snapshot]](pages, "snapshots"),
		tokens:    newMemo[string, flexd.AccessToken](entries, "access_tokens"),
		accounts: newMemo[string, flexd.ServiceAccount](entries,
			"service_accounts", "service_account_projects", "service_account_secrets"),
		keys:      newMemo[string, flexd.APIKey](entries, "api_keys", "api_key_projects"),
		keysByPub: newMemo[string, flexd.APIKey](entries, "api_keys", "api_key_projects"),
	}
}

// pageKey is one page of one parent's list.
type pageKey struct {
	parent string
	page   flexd.Page
}

// pageOf is a cached page with its total.
type pageOf[T any] struct {
	items []T
	total int
}

// memo is one kind of cached read: entries stamped with the write counts
// of the tables they were read from. It is bounded by dropping everything
// when full, which keeps it simple and costs one miss per key.
type memo[K comparable, V any] struct {
	mu     sync.RWMutex
	m      map[K]stamped[V]
	max    int
	tables []string
}

type stamped[V any] struct {
	stamp uint64
	v     V
}

func newMemo[K comparable, V any](max int, tables ...string) *memo[K, V] {
	return &memo[K, V]{m: map[K]stamped[V]{}, max: max, tables: tables}
}

// get returns the cached value of k, reading it with load on a miss. Only
// successful reads are kept: a miss that failed (not found) asks again.
func (m *memo[K, V]) get(c *changes, k K, load func() (V, error)) (V, error) {
	now := c.stamp(m.tables)
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if ok && e.stamp == now {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[k] = stamped[V]{stamp: now, v: v}
	m.mu.Unlock()
	return v, nil
}

// one adapts a Get returning a pointer: the cache keeps a value, and each
// caller gets its own deep copy to change as it likes.
func one[K comparable, V any](c *Cached, m *memo[K, V], k K, get func() (*V, error), clone func(V) V) (*V, error) {
	v, err := m.get(&c.changes, k, func() (V, error) {
		p, err := get()
		if err != nil {
			var zero V
			return zero, err
		}
		return *p, nil
	})
	if err != nil {
		return nil, err
	}
	v = clone(v)
	return &v, nil
}

// GetProject reads through the cache.
func (c *Cached) GetProject(ctx context.Context, id string) (*flexd.Project, error) {
	return one(c, c.projects, id, func() (*flexd.Project, error) { return c.Store.GetProject(ctx, id) },
		func(p flexd.Project) flexd.Project { p.Tags = slices.Clone(p.Tags); return p })
}

// GetFlexCluster reads through the cache.
func (c *Cached) GetFlexCluster(ctx context.Context, groupID, name string) (*flexd.FlexCluster, error) {
	return one(c, c.clusters, [2]string{groupID, name}, func() (*flexd.FlexCluster, error) {
		return c.Store.GetFlexCluster(ctx, groupID, name)
	}, func(fc flexd.FlexCluster) flexd.FlexCluster { fc.Tags = slices.Clone(fc.Tags); return fc })
}

// GetRestoreJob reads through the cache.
func (c *Cached) GetRestoreJob(ctx context.Context, clusterID, id string) (*flexd.RestoreJob, error) {
	return one(c, c.jobs, [2]string{clusterID, id}, func() (*flexd.RestoreJob, error) {
		return c.Store.GetRestoreJob(ctx, clusterID, id)
	}, func(j flexd.RestoreJob) flexd.RestoreJob { return j })
}

// ListRestoreJobs reads through the cache. While the page is unchanged,
// every call returns the same slice: callers must not modify its items.
// That identity is what lets the API reuse the page's encoding
// (atlasapi's list handler); the slice is clipped, so an append copies.
func (c *Cached) ListRestoreJobs(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.RestoreJob, int, error) {
	pg, err := c.jobPages.get(&c.changes, pageKey{clusterID, p}, func() (pageOf[flexd.RestoreJob], error) {
		items, total, err := c.Store.ListRestoreJobs(ctx, clusterID, p)
		return pageOf[flexd.RestoreJob]{slices.Clip(items), total}, err
	})
	return pg.items, pg.total, err
}

// ListSnapshots reads through the cache, with ListRestoreJobs's rule.
func (c *Cached) ListSnapshots(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.Snapshot, int, error) {
	pg, err := c.snapPages.get(&c.changes, pageKey{clusterID, p}, func() (pageOf[flexd.Snapshot], error) {
		items, total, err := c.Store.ListSnapshots(ctx, clusterID, p)
		return pageOf[flexd.Snapshot]{slices.Clip(items), total}, err
	})
	return pg.items, pg.total, err
}

// GetAccessToken reads through the cache; a revocation is a write to
// access_tokens, so it takes effect on the next request.
func (c *Cached) GetAccessToken(ctx context.Context, digest string) (*flexd.AccessToken, error) {
	return one(c, c.tokens, digest, func() (*flexd.AccessToken, error) {
		return c.Store.GetAccessToken(ctx, digest)
	}, func(t flexd.AccessToken) flexd.AccessToken { return t })
}

// GetServiceAccount reads through the cache.
func (c *Cached) GetServiceAccount(ctx context.Context, clientID string) (*flexd.ServiceAccount, error) {
	return one(c, c.accounts, clientID, func() (*flexd.ServiceAccount, error) {
		return c.Store.GetServiceAccount(ctx, clientID)
	}, func(a flexd.ServiceAccount) flexd.ServiceAccount {
		a.Grants = cloneGrants(a.Grants)
		a.Secrets = slices.Clone(a.Secrets)
		return a
	})
}

// GetAPIKey reads through the cache.
func (c *Cached) GetAPIKey(ctx context.Context, id string) (*flexd.APIKey, error) {
	return one(c, c.keys, id, func() (*flexd.APIKey, error) { return c.Store.GetAPIKey(ctx, id) }, cloneAPIKey)
}

// GetAPIKeyByPublicKey reads through the cache.
func (c *Cached) GetAPIKeyByPublicKey(ctx context.Context, publicKey string) (*flexd.APIKey, error) {
	return one(c, c.keysByPub, publicKey, func() (*flexd.APIKey, error) {
		return c.Store.GetAPIKeyByPublicKey(ctx, publicKey)
	}, cloneAPIKey)
}

func cloneAPIKey(k flexd.APIKey) flexd.APIKey {
	k.Grants = cloneGrants(k.Grants)
	return k
}

func cloneGrants(g flexd.Grants) flexd.Grants {
	g.OrgRoles = slices.Clone(g.OrgRoles)
	g.Projects = slices.Clone(g.Projects)
	for i := range g.Projects {
		g.Projects[i].Roles = slices.Clone(g.Projects[i].Roles)
	}
	return g
}
