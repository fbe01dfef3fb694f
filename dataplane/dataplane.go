// Package dataplane makes Flex clusters live MongoDB endpoints: for each
// cluster an embedded FerretDB (package ferret) behind flexd's wire front
// (package mongowire) on a port of --cluster-ports, and the snapshot and
// restore of its data as mongodump-layout streams (package mongodump).
//
// It is what the lifecycle jobs call: Serve when a cluster becomes IDLE,
// Snapshot into the blob store, Restore from it, Delete with the cluster.
//
// Wiring, as the next step is expected to do it:
//
//	blobs, _ := fsblob.Open(filepath.Join(dataDir, "blobs")); blobs.Sweep(ctx)
//	plane, _ := dataplane.Open(dataplane.Config{Dir: filepath.Join(dataDir, "clusters"),
//		Host: clusterHost, Ports: ports, TempDir: filepath.Join(dataDir, "tmp"), Log: log})
//	plane.Reserve(every stored port...)           // before the first Serve
//	port, _ := plane.Serve(ctx, c.ID, c.Port)     // each IDLE cluster; store port if it changed
//	plane.Sweep(func(id string) bool { … a cluster row exists … })
//	defer plane.Close()                            // shutdown: endpoints closed, data kept
//
// and in the job kinds:
//
//	provision: port, _ := plane.Serve(ctx, id, 0); uri, _ := plane.ConnectionString(id)
//	snapshot:  size, sum, st, err := dataplane.SnapshotToBlob(ctx, plane, blobs, id, "snapshots/<cluster>/<snapshot>.tgz")
//	           (record key, size and sum with COMPLETED in one unit of work)
//	restore:   plane.Fence(target, jobID, "restore job … is RUNNING") when RUNNING;
//	           dataplane.RestoreFromBlob(ctx, plane, blobs, target, key, size, sum);
//	           plane.Unfence(target, jobID) once COMPLETED or FAILED
//	download:  dataplane.WriteDownload, or http.ServeContent over blobs.Get (Range)
//	delete:    plane.Delete(id), then blobs.Delete of its snapshots' keys
//	prune:     blobs.Delete(key)
package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/ferret"
	"github.com/flexd/flexd/mongodump"
	"github.com/flexd/flexd/mongowire"
)

// Config configures a Plane.
type Config struct {
	// Dir holds each cluster's data ("<data dir>/clusters").
	Dir string
	// Host is bound and written into connection strings (--cluster-host).
	Host string
	// Bind, when set, is bound instead of Host (--cluster-bind: in a
	// container, 0.0.0.0 behind published ports, while connection strings
	// name the host clients reach).
	Bind string
	// Ports is --cluster-ports.
	Ports mongowire.PortRange
	// TLS, when set, wraps every endpoint's listener (--cluster-tls-cert,
	// --cluster-tls-key): clients connect with tls=true, and connection
	// strings say ssl=true as Atlas's do. Without it traffic is plaintext.
	TLS *tls.Config
	// IdleTimeout closes a cluster's FerretDB after this long without a
	// connection; zero means one minute.
	IdleTimeout time.Duration
	// TempDir holds snapshot spool files; "" means os.TempDir.
	TempDir string
	Log     *slog.Logger
	// SnapshotProgress, if set, is called after each data file a snapshot
	// copies while writes are held.
	SnapshotProgress func(clusterID, file string)
	// SnapshotPaused, if set, is told how long a files snapshot held the
	// cluster's writes (benchmarks report it).
	SnapshotPaused func(clusterID string, held time.Duration)
	// Access guards every endpoint: the project's IP access list and
	// database users (flexd serve always sets it). Without it anyone who
	// reaches a port is served, which only tests of the data path want.
	Access *Access
}

// ErrNotServing is returned for a cluster Serve was not called for.
var ErrNotServing = errors.New("dataplane: cluster is not being served")

// Plane serves every cluster's endpoint on this host.
type Plane struct {
	cfg    Config
	log    *slog.Logger
	ferret *ferret.Manager
	ports  *mongowire.Ports

	mu     sync.Mutex
	fronts map[string]*endpoint
	fences map[string]map[string]string // cluster id → holder → reason
}

type endpoint struct {
	front   *mongowire.Front
	port    int
	groupID string // "" without Access
	name    string
}

// Open starts a Plane; it serves nothing until Serve.
func Open(cfg Config) (*Plane, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Ports == (mongowire.PortRange{}) {
		cfg.Ports = mongowire.PortRange{First: 27100, Last: 27999}
	}
	if cfg.TempDir != "" {
		if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
			return nil, fmt.Errorf("dataplane: %w", err)
		}
	}
	fm, err := ferret.New(ferret.Config{Dir: cfg.Dir, IdleTimeout: cfg.IdleTimeout, Logger: log.With("component", "ferretdb")})
	if err != nil {
		return nil, err
	}
	bind := cfg.Host
	if cfg.Bind != "" {
		bind = cfg.Bind
	}
	return &Plane{cfg: cfg, log: log, ferret: fm, ports: mongowire.NewPorts(bind, cfg.Ports), fronts: map[string]*endpoint{}, fences: map[string]map[string]string{}}, nil
}

var _ flexd.DataPlane = (*Plane)(nil)

// Serve opens cluster id's endpoint, on port if it is free (the port stored
// with the cluster, so it survives restarts; 0 for a new cluster), else on
// another port of the range, and returns the port to store. Serving a
// cluster already served returns its port.
func (p *Plane) Serve(ctx context.Context, id string, port int) (int, error) {
	var c *flexd.FlexCluster
	if a := p.cfg.Access; a != nil {
		// Which project's users and access list guard the endpoint.
		var err error
		if c, err = a.store.GetFlexClusterByID(ctx, id); err != nil {
			return 0, fmt.Errorf("dataplane: guard cluster %s: %w", id, err)
		}
	}
	return p.serve(ctx, id, port, c)
}

// ServeCluster is Serve for cluster c, on c.Port if it is free: c names
// the project whose users and access list guard the endpoint (a cluster
// never changes project or name), which may not be stored yet (a
// cluster adopted in the unit of work that creates it).
func (p *Plane) ServeCluster(ctx context.Context, c *flexd.FlexCluster) (int, error) {
	return p.serve(ctx, c.ID, c.Port, c)
}

func (p *Plane) serve(ctx context.Context, id string, port int, c *flexd.FlexCluster) (int, error) {
	opts := mongowire.Options{Name: id, Log: p.log}
	if a := p.cfg.Access; a != nil {
		opts = a.options(c)
		opts.Name, opts.Log = id, p.log
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ep := p.fronts[id]; ep != nil {
		return ep.port, nil
	}
	b, err := p.ferret.Backend(id)
	if err != nil {
		return 0, err
	}
	ln, got, err := p.ports.Listen(port)
	if err != nil {
		return 0, err
	}
	if port != 0 && got != port {
		p.log.Warn("cluster port taken by another process; serving on another", "cluster", id, "stored", port, "port", got)
	}
	if p.cfg.TLS != nil {
		ln = tls.NewListener(ln, p.cfg.TLS)
	}
	f := mongowire.Serve(ln, b, opts)
	ep := &endpoint{front: f, port: got}
	if c != nil {
		ep.groupID, ep.name = c.GroupID, c.Name
	}
	p.fronts[id] = ep
	p.applyFenceLocked(id)
	return got, nil
}

// Held is the number of requests to cluster id that a pause holds now.
func (p *Plane) Held(id string) int {
	ep, err := p.endpoint(id)
	if err != nil {
		return 0
	}
	return ep.front.Held()
}

// Reserve keeps the stored ports of clusters about to be served, so a
// cluster without a stored port never takes one of theirs. Call it at
// start-up with every stored port before the first Serve.
func (p *Plane) Reserve(ports ...int) { p.ports.Reserve(ports...) }

// ConnectionString is the standard connection string of a served cluster.
func (p *Plane) ConnectionString(id string) (string, error) {
	ep, err := p.endpoint(id)
	if err != nil {
		return "", err
	}
	uri := "mongodb://" + net.JoinHostPort(p.cfg.Host, strconv.Itoa(ep.port)) + "/"
	if p.cfg.TLS != nil {
		uri += "?ssl=true" // Atlas's spelling; drivers read tls=true the same
	}
	return uri, nil
}

func (p *Plane) endpoint(id string) (*endpoint, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ep := p.fronts[id]
	if ep == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotServing, id)
	}
	return ep, nil
}

// Stop closes cluster id's endpoint and connections; its data stays.
func (p *Plane) Stop(id string) {
	p.mu.Lock()
	ep := p.fronts[id]
	delete(p.fronts, id)
	p.mu.Unlock()
	if ep != nil {
		ep.front.Close()
		p.ports.Release(ep.port)
	}
	p.ferret.Stop(id)
}

// Delete closes cluster id's endpoint and removes its data.
func (p *Plane) Delete(id string) error {
	p.Stop(id)
	p.mu.Lock()
	delete(p.fences, id)
	p.mu.Unlock()
	return p.ferret.Delete(id)
}

// Fence makes cluster id refuse writes (reads go on) until every holder
// that fenced it has called Unfence: a restore job fences its target under
// its own id for as long as it is RUNNING, and Restore fences under its own
// holder while it loads, so neither lifts the other's fence. Fencing a
// cluster that is not served yet applies when Serve opens it. Fence and
// Unfence are idempotent per holder.
func (p *Plane) Fence(id, holder, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fences[id] == nil {
		p.fences[id] = map[string]string{}
	}
	p.fences[id][holder] = reason
	p.applyFenceLocked(id)
	return nil
}

// Unfence lifts holder's Fence.
func (p *Plane) Unfence(id, holder string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fences[id], holder)
	if len(p.fences[id]) == 0 {
		delete(p.fences, id)
	}
	p.applyFenceLocked(id)
	return nil
}

func (p *Plane) applyFenceLocked(id string) {
	ep := p.fronts[id]
	if ep == nil {
		return
	}
	var reasons []string
	for _, r := range p.fences[id] {
		reasons = append(reasons, r)
	}
	if len(reasons) == 0 {
		ep.front.Unfence()
		return
	}
	slices.Sort(reasons)
	ep.front.Fence(strings.Join(slices.Compact(reasons), "; "))
}

// Sweep deletes the data of every cluster keep does not want (start-up:
// data left by a cluster deleted while flexd was down).
func (p *Plane) Sweep(keep func(id string) bool) error {
	ids, err := p.ferret.Clusters()
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if !keep(id) {
			errs = append(errs, p.Delete(id))
		}
	}
	return errors.Join(errs...)
}

// Close closes every endpoint and backend; the data stays.
func (p *Plane) Close() error {
	p.mu.Lock()
	fronts := p.fronts
	p.fronts = map[string]*endpoint{}
	p.mu.Unlock()
	for _, ep := range fronts {
		ep.front.Close()
		p.ports.Release(ep.port)
	}
	p.ferret.Close()
	return nil
}

// client connects the driver straight to a backend, past the front (and so
// past its pause and fence).
func client(d options.ContextDialer) (*mongo.Client, error) {
	return mongo.Connect(options.Client().
		ApplyURI("mongodb://flexd-backend.invalid/?directConnection=true").
		SetDialer(d).
		SetRetryWrites(false))
}

// Snapshot writes all of cluster id's data to w as a tar stream in
// mongodump layout (package mongodump), consistent at one instant: writes
// through the front are held while the data files are copied (ferret's
// Backend.Copy, a file copy under a held SQLite write lock), and the dump is then read
// from that copy while writes go on. A write acknowledged before Snapshot
// was called is in it; a write command (e.g. one insertMany) is wholly in
// it or wholly not. The cluster must be served (ErrNotServing: e.g. it was
// deleted). The copy needs as much free disk as the cluster's data files.
func (p *Plane) Snapshot(ctx context.Context, id string, w io.Writer) (flexd.DataStats, error) {
	ep, err := p.endpoint(id)
	if err != nil {
		return flexd.DataStats{}, err
	}
	b, err := p.ferret.Backend(id)
	if err != nil {
		return flexd.DataStats{}, err
	}
	resume, err := ep.front.PauseWrites(ctx)
	if err != nil {
		return flexd.DataStats{}, err
	}
	var progress func(string)
	if f := p.cfg.SnapshotProgress; f != nil {
		progress = func(file string) { f(id, file) }
	}
	cp, err := b.Copy(ctx, progress)
	resume()
	if err != nil {
		return flexd.DataStats{}, err
	}
	defer cp.Close()
	c, err := client(cp)
	if err != nil {
		return flexd.DataStats{}, err
	}
	defer c.Disconnect(context.Background())
	m, err := mongodump.Dump(ctx, c, w, mongodump.DumpOptions{TempDir: p.cfg.TempDir, Source: id})
	if err != nil {
		return flexd.DataStats{}, err
	}
	return stats(m), nil
}

// Restore replaces all of cluster id's data with the dump r holds (wrap r
// in flexd.VerifyBlob to check it against its recorded checksum). The dump
// is loaded into a staging generation beside the live data while the
// cluster refuses writes (reads go on); only when all of it is loaded and
// verified is it swapped in, with every request held for the instant of
// the swap. On any failure the live data is untouched. Source and target
// may be the same cluster. The target must be served (ErrNotServing), and
// a target deleted while Restore runs makes it fail.
func (p *Plane) Restore(ctx context.Context, id string, r io.Reader) (flexd.DataStats, error) {
	if _, err := p.endpoint(id); err != nil {
		return flexd.DataStats{}, err // a deleted target gets no data back
	}
	b, err := p.ferret.Backend(id)
	if err != nil {
		return flexd.DataStats{}, err
	}
	const holder = "dataplane.Restore"
	p.Fence(id, holder, "a restore is replacing this cluster's data")
	defer p.Unfence(id, holder)
	s, err := b.Stage(ctx)
	if err != nil {
		return flexd.DataStats{}, err
	}
	committed := false
	defer func() {
		if !committed {
			s.Abort()
		}
	}()
	c, err := client(s)
	if err != nil {
		return flexd.DataStats{}, err
	}
	m, err := mongodump.Load(ctx, c, r)
	c.Disconnect(context.Background())
	if err != nil {
		return flexd.DataStats{}, err
	}
	if ep, err := p.endpoint(id); err == nil { // else deleted meanwhile: Commit fails
		resume, err := ep.front.Quiesce(ctx)
		if err != nil {
			return flexd.DataStats{}, err
		}
		defer resume()
	}
	committed = true
	if err := s.Commit(); err != nil {
		return flexd.DataStats{}, err
	}
	return stats(m), nil
}

func stats(m mongodump.Manifest) flexd.DataStats {
	colls, docs, bytes := m.Totals()
	return flexd.DataStats{Databases: len(m.Databases), Collections: colls, Documents: docs, Bytes: bytes}
}
