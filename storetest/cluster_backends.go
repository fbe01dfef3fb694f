package storetest

import (
	"errors"
	"time"

	"github.com/flexd/flexd"
)

func init() {
	suite = append(suite, subtest{"ClusterBackends", testClusterBackends}, subtest{"ClusterBackends/GoWithTheirCluster", testClusterBackendsGo})
}

// testClusterBackends: an attached deployment reads back as written, URI
// included (a sealing store opens it again), is replaced by the next
// attach, and is gone after a detach, which is idempotent.
func testClusterBackends(e *env) {
	c := e.cluster(nil)
	other := e.cluster(nil)
	get := func(id string) (*flexd.ClusterBackend, error) {
		var b *flexd.ClusterBackend
		err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
			var err error
			b, err = tx.GetClusterBackend(e.ctx, id)
			return err
		})
		return b, err
	}
	if _, err := get(c.ID); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("backend of an embedded cluster: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := flexd.ClusterBackend{ClusterID: c.ID, URI: "mongodb://u:p%40ss@h1:27017,h2:27018/?replicaSet=rs",
		Hosts: "h1:27017,h2:27018", ConnectionString: "mongodb://h1:27017,h2:27018/?replicaSet=rs", AttachedAt: at.Add(300 * time.Millisecond)}
	e.tx(func(tx flexd.Tx) error { b := want; return tx.PutClusterBackend(e.ctx, &b) })
	got, err := get(c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	want.AttachedAt = at // whole seconds, as every time the store keeps
	if *got != want {
		e.t.Fatalf("backend = %+v, want %+v", *got, want)
	}
	if _, err := get(other.ID); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("another cluster's backend: %v, want ErrNotFound", err)
	}
	// A second attach replaces the first.
	want.URI, want.Hosts, want.ConnectionString = "mongodb://h3:1/", "h3:1", "mongodb://h3:1/"
	e.tx(func(tx flexd.Tx) error { b := want; return tx.PutClusterBackend(e.ctx, &b) })
	if got, err := get(c.ID); err != nil || *got != want {
		e.t.Fatalf("backend after a second attach = %+v %v, want %+v", got, err, want)
	}
	// A unit of work that fails attaches nothing.
	boom := errors.New("boom")
	if err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
		if err := tx.PutClusterBackend(e.ctx, &flexd.ClusterBackend{ClusterID: other.ID, URI: "mongodb://x/", Hosts: "x", ConnectionString: "mongodb://x/"}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		e.t.Fatal(err)
	}
	if _, err := get(other.ID); !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("backend after a rolled back attach: %v, want ErrNotFound", err)
	}
	// Detach, twice.
	for range 2 {
		e.tx(func(tx flexd.Tx) error { return tx.DeleteClusterBackend(e.ctx, c.ID) })
		if _, err := get(c.ID); !errors.Is(err, flexd.ErrNotFound) {
			e.t.Fatalf("backend after a detach: %v, want ErrNotFound", err)
		}
	}
	// Attaching to a cluster that does not exist fails.
	if err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
		return tx.PutClusterBackend(e.ctx, &flexd.ClusterBackend{ClusterID: "000000000000000000000000", URI: "mongodb://x/", Hosts: "x", ConnectionString: "mongodb://x/"})
	}); err == nil {
		e.t.Fatal("attached a backend to a cluster that does not exist")
	}
}

// testClusterBackendsGo: the attachment goes with its cluster, deleted
// alone or by a reset.
func testClusterBackendsGo(e *env) {
	attach := func(c flexd.FlexCluster) {
		e.tx(func(tx flexd.Tx) error {
			return tx.PutClusterBackend(e.ctx, &flexd.ClusterBackend{ClusterID: c.ID, URI: "mongodb://u:p@h/", Hosts: "h", ConnectionString: "mongodb://h/"})
		})
	}
	c := e.cluster(nil)
	attach(c)
	if err := e.s.DeleteFlexCluster(e.ctx, c.ID); err != nil {
		e.t.Fatal(err)
	}
	err := e.s.InTx(e.ctx, func(tx flexd.Tx) error {
		_, err := tx.GetClusterBackend(e.ctx, c.ID)
		return err
	})
	if !errors.Is(err, flexd.ErrNotFound) {
		e.t.Fatalf("backend of a deleted cluster: %v, want ErrNotFound", err)
	}
	l := e.lifecycle()
	org := e.org()
	p := e.project(org.ID)
	r := e.cluster(&p)
	attach(r)
	if err := l.Reset(e.ctx, []string{org.ID}); err != nil {
		e.t.Fatalf("reset of a project whose cluster has a backend: %v", err)
	}
}
