package sqlstore

import (
	"context"
	"slices"
	"sync"

	"github.com/flexd/flexd"
)

// Cached is the store with a read cache in front of what every API request
// reads: the caller's token, service account or API key, the project and
// the cluster of the path, and the pages of restore jobs and snapshots.
// Each entry keeps the mark it was read at and the parents it depends on
// (see flexd.Versions), and is used only while none of them has changed
// since: so the cache never answers what the database would not, and a
// revoked token fails, a new job shows, on the next request. What each
// entry depends on:
//
//	project          its project
//	cluster by name  its project (which cluster has the name) and the cluster
//	restore job      its cluster
//	page of jobs or snapshots   its cluster
//	access token     the service account it was issued to
//	service account  itself (grants, secrets)
//	API key          itself (grants), whether read by id or public key
//
// That holds only while this process makes every write to the database
// (versions.go says how the versions can move into the database). Use
// Cached only when it does (flexd serve locks its SQLite data directory);
// with several replicas on one PostgreSQL database, use the Store itself.
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
	key := func(c flexd.APIKey) []flexd.Parent { return []flexd.Parent{flexd.CredentialParent(c.ID)} }
	return &Cached{
		Store: s,
		projects: newMemo(entries, func(id string, _ flexd.Project) []flexd.Parent {
			return []flexd.Parent{flexd.ProjectParent(id)}
		}),
		clusters: newMemo(entries, func(k [2]string, c flexd.FlexCluster) []flexd.Parent {
			return []flexd.Parent{flexd.ProjectParent(k[0]), flexd.ClusterParent(c.ID)}
		}),
		jobPages: newMemo(pages, func(k pageKey, _ pageOf[flexd.RestoreJob]) []flexd.Parent {
			return []flexd.Parent{flexd.ClusterParent(k.parent)}
		}),
		jobs: newMemo(entries, func(k [2]string, _ flexd.RestoreJob) []flexd.Parent {
			return []flexd.Parent{flexd.ClusterParent(k[0])}
		}),
		snapPages: newMemo(pages, func(k pageKey, _ pageOf[flexd.Snapshot]) []flexd.Parent {
			return []flexd.Parent{flexd.ClusterParent(k.parent)}
		}),
		tokens: newMemo(entries, func(_ string, t flexd.AccessToken) []flexd.Parent {
			return []flexd.Parent{flexd.CredentialParent(t.Subject)}
		}),
		accounts: newMemo(entries, func(id string, _ flexd.ServiceAccount) []flexd.Parent {
			return []flexd.Parent{flexd.CredentialParent(id)}
		}),
		keys:      newMemo(entries, func(_ string, k flexd.APIKey) []flexd.Parent { return key(k) }),
		keysByPub: newMemo(entries, func(_ string, k flexd.APIKey) []flexd.Parent { return key(k) }),
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

// memo is one kind of cached read. It is bounded by dropping everything
// when full, which keeps it simple and costs one miss per key.
type memo[K comparable, V any] struct {
	mu      sync.RWMutex
	m       map[K]entry[V]
	max     int
	parents func(K, V) []flexd.Parent
}

// entry is a value read at mark, valid while its parents are unchanged.
type entry[V any] struct {
	mark    uint64
	parents []flexd.Parent
	v       V
}

func newMemo[K comparable, V any](max int, parents func(K, V) []flexd.Parent) *memo[K, V] {
	return &memo[K, V]{m: map[K]entry[V]{}, max: max, parents: parents}
}

// get returns the cached value of k, reading it with load on a miss. Only
// successful reads are kept: a miss that failed (not found) asks again.
func (m *memo[K, V]) get(vs *versions, k K, load func() (V, error)) (V, error) {
	m.mu.RLock()
	e, ok := m.m[k]
	m.mu.RUnlock()
	if ok && !vs.ChangedSince(e.mark, e.parents...) {
		return e.v, nil
	}
	mark := vs.Mark()
	v, err := load()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[k] = entry[V]{mark: mark, parents: m.parents(k, v), v: v}
	m.mu.Unlock()
	return v, nil
}

// one adapts a Get returning a pointer: the cache keeps a value, and each
// caller gets its own deep copy to change as it likes.
func one[K comparable, V any](c *Cached, m *memo[K, V], k K, get func() (*V, error), clone func(V) V) (*V, error) {
	v, err := m.get(&c.versions, k, func() (V, error) {
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

// ListRestoreJobs reads through the cache; each caller gets its own copy
// of the page.
func (c *Cached) ListRestoreJobs(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.RestoreJob, int, error) {
	pg, err := c.jobPages.get(&c.versions, pageKey{clusterID, p}, func() (pageOf[flexd.RestoreJob], error) {
		items, total, err := c.Store.ListRestoreJobs(ctx, clusterID, p)
		return pageOf[flexd.RestoreJob]{items, total}, err
	})
	return slices.Clone(pg.items), pg.total, err
}

// ListSnapshots reads through the cache, as ListRestoreJobs.
func (c *Cached) ListSnapshots(ctx context.Context, clusterID string, p flexd.Page) ([]flexd.Snapshot, int, error) {
	pg, err := c.snapPages.get(&c.versions, pageKey{clusterID, p}, func() (pageOf[flexd.Snapshot], error) {
		items, total, err := c.Store.ListSnapshots(ctx, clusterID, p)
		return pageOf[flexd.Snapshot]{items, total}, err
	})
	return slices.Clone(pg.items), pg.total, err
}

// GetAccessToken reads through the cache; a revocation touches the
// token's service account, so it takes effect on the next request.
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
