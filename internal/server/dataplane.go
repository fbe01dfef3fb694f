package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/fsblob"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/mongowire"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// dataPlaneConfig holds where the clusters' MongoDB endpoints listen.
type dataPlaneConfig struct {
	host      string
	bind      string
	ports     string
	portRange mongowire.PortRange
	tlsCert   string
	tlsKey    string
	tls       *tls.Config // from tlsCert and tlsKey; nil: plaintext
	// off runs the clusters without endpoints (Options.NoDataPlane).
	off bool
	// accessList is what a new project's IP access list starts with.
	accessList    string
	initialAccess []flexd.AccessListEntry
	// recheck is how often open connections are checked again for what
	// expires (temporary users and access list entries).
	recheck time.Duration
}

func (dc *dataPlaneConfig) register(ef *envFlags) {
	ef.string(&dc.host, "cluster-host", "FLEXD_CLUSTER_HOST", "127.0.0.1",
		"host the clusters' MongoDB endpoints bind and write into connection strings (SQLite store only)")
	ef.string(&dc.bind, "cluster-bind", "FLEXD_CLUSTER_BIND", "",
		"address the clusters' endpoints bind when it is not --cluster-host, e.g. 0.0.0.0 in a container whose ports are published (default: --cluster-host)")
	ef.string(&dc.ports, "cluster-ports", "FLEXD_CLUSTER_PORTS", "27100-27999",
		"TCP port range of the clusters' MongoDB endpoints, FIRST-LAST; ports other processes hold are skipped")
	ef.string(&dc.tlsCert, "cluster-tls-cert", "FLEXD_CLUSTER_TLS_CERT", "",
		"PEM certificate (chain) the clusters' endpoints present: they then speak TLS only, and connection strings carry ssl=true; with --cluster-tls-key (default: plaintext)")
	ef.string(&dc.tlsKey, "cluster-tls-key", "FLEXD_CLUSTER_TLS_KEY", "",
		"PEM private key of --cluster-tls-cert")
	ef.string(&dc.accessList, "cluster-access-list", "FLEXD_CLUSTER_ACCESS_LIST", "loopback",
		"IP access list a new project starts with: none, or comma-separated CIDR blocks and loopback (the loopback range of --cluster-bind/--cluster-host: 127.0.0.0/8, ::1/128 or both)")
	ef.duration(&dc.recheck, "access-recheck-period", "FLEXD_ACCESS_RECHECK_PERIOD", 10*time.Second,
		"how often open cluster connections are checked again for database users and access list entries whose deleteAfterDate has come on flexd's clock")
}

func (dc *dataPlaneConfig) validate() error {
	r, err := mongowire.ParsePortRange(dc.ports)
	if err != nil {
		return fmt.Errorf("%w: --cluster-ports: %v", errUsage, err)
	}
	if dc.host == "" {
		return fmt.Errorf("%w: --cluster-host must not be empty", errUsage)
	}
	if dc.recheck <= 0 {
		return fmt.Errorf("%w: --access-recheck-period must be positive", errUsage)
	}
	dc.portRange = r
	if (dc.tlsCert == "") != (dc.tlsKey == "") {
		return fmt.Errorf("%w: --cluster-tls-cert and --cluster-tls-key go together", errUsage)
	}
	if dc.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(dc.tlsCert, dc.tlsKey)
		if err != nil {
			return fmt.Errorf("%w: --cluster-tls-cert/--cluster-tls-key: %v", errUsage, err)
		}
		dc.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	blocks, err := dc.initialBlocks()
	if err != nil {
		return err
	}
	dc.initialAccess = nil
	for _, b := range blocks {
		e := flexd.AccessListEntry{CIDRBlock: b.String()}
		if b.Addr().IsLoopback() {
			// Atlas starts a project with an empty list; flexd lets a
			// fresh local setup connect. It is an entry like any other:
			// DELETE it to lock loopback out too.
			e.Comment = "flexd: loopback of the cluster endpoints"
		}
		dc.initialAccess = append(dc.initialAccess, e)
	}
	return nil
}

// initialBlocks are the CIDR blocks of --cluster-access-list: "none", or
// a comma-separated list of blocks and "loopback".
func (dc *dataPlaneConfig) initialBlocks() ([]netip.Prefix, error) {
	if v := strings.TrimSpace(dc.accessList); v == "none" || v == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for f := range strings.SplitSeq(dc.accessList, ",") {
		f = strings.TrimSpace(f)
		if f == "loopback" {
			out = append(out, dc.loopback()...)
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil || p != p.Masked() {
			return nil, fmt.Errorf("%w: --cluster-access-list: %q is neither loopback nor a CIDR block (e.g. 10.0.0.0/8)", errUsage, f)
		}
		out = append(out, p)
	}
	return out, nil
}

// loopback is the range local clients reach the endpoints from: the
// listener's own family, both for a name or a wildcard (dual stack).
func (dc *dataPlaneConfig) loopback() []netip.Prefix {
	v4, v6 := netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")
	a, err := netip.ParseAddr(cmp.Or(dc.bind, dc.host))
	switch {
	case err != nil || a.IsUnspecified() && a.Is6():
		return []netip.Prefix{v4, v6}
	case a.Is4() || a.Is4In6():
		return []netip.Prefix{v4}
	default:
		return []netip.Prefix{v6}
	}
}

// openDataPlane makes every cluster of the store a live MongoDB endpoint:
// data under dataDir (clusters/, blobs/, tmp/), the stored port of each
// cluster reserved and served again, and what a crash or a delete while
// flexd was down left behind swept away (the data of clusters that are
// gone, blobs no snapshot names, unfinished writes, spool files). It
// returns the lifecycle's artifacts and how to close every endpoint.
//
// Every endpoint is guarded (dataplane.Access): the project's IP access
// list and database users, read from store, with what expires decided on
// clock, checked again every dc.recheck.
func openDataPlane(ctx context.Context, dc *dataPlaneConfig, dataDir string, store *sqlstore.Store, clock flexd.Clock, log *slog.Logger) (*dataplane.DataArtifacts, func(), error) {
	// One process serves a data directory's clusters, whether or not the
	// store is locked (--read-cache=false lets processes share the SQLite
	// file): two would serve the same data files behind separate fences.
	unlock, err := sqlite.Lock(filepath.Join(dataDir, "clusters", "plane"))
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		log.Warn("no data directory lock on this platform: run one flexd per data directory")
		unlock = func() error { return nil }
	case err != nil:
		return nil, nil, fmt.Errorf("data plane: the clusters of %s are served by another flexd process (one process per data directory): %w", dataDir, err)
	}
	tmp := filepath.Join(dataDir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		unlock()
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	blobs, err := fsblob.Open(filepath.Join(dataDir, "blobs"))
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	if err := blobs.Sweep(ctx); err != nil {
		unlock()
		return nil, nil, fmt.Errorf("data plane: sweep blobs: %w", err)
	}
	plog := log.With("component", "dataplane")
	access := dataplane.NewAccess(store, clock, plog)
	plane, err := dataplane.Open(dataplane.Config{Dir: filepath.Join(dataDir, "clusters"), Host: dc.host,
		Bind: dc.bind, Ports: dc.portRange, TLS: dc.tls, TempDir: tmp, Log: plog, Access: access})
	if err != nil {
		unlock()
		return nil, nil, err
	}
	fail := func(err error) (*dataplane.DataArtifacts, func(), error) {
		plane.Close()
		unlock()
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	clusters, err := store.AllFlexClusters(ctx)
	if err != nil {
		return fail(err)
	}
	exists := make(map[string]bool, len(clusters))
	for _, c := range clusters {
		exists[c.ID] = true
		if c.Port > 0 {
			plane.Reserve(c.Port)
		}
	}
	if err := plane.Sweep(func(id string) bool { return exists[id] }); err != nil {
		return fail(fmt.Errorf("sweep cluster data: %w", err))
	}
	keys, err := store.ArtifactBlobKeys(ctx)
	if err != nil {
		return fail(err)
	}
	swept, err := dataplane.SweepBlobs(ctx, blobs, keys)
	if err != nil {
		return fail(fmt.Errorf("sweep snapshot artifacts: %w", err))
	}
	// A restore a crash or a stop interrupted is RUNNING still: its target
	// refuses writes again now, not only once its copy starts over.
	running, err := store.RunningRestores(ctx)
	if err != nil {
		return fail(err)
	}
	for _, r := range running {
		_ = plane.Fence(r.TargetID, r.JobID, "restore job "+r.JobID+" is RUNNING into this cluster")
	}
	// An attached cluster is served by its external deployment: its URI
	// is unsealed from the store each time a snapshot, restore or serve
	// needs it, never kept beside the data.
	d := &dataplane.DataArtifacts{Plane: plane, Blobs: blobs, Log: plog, Backend: store.ClusterBackend}
	served := 0
	for i := range clusters {
		c := &clusters[i]
		if c.StateName == flexd.ClusterCreating || c.StateName == flexd.ClusterDeleting {
			continue // served once IDLE; deleted by its job
		}
		change, err := d.Serve(ctx, c)
		if err != nil {
			return fail(err)
		}
		before := *c
		change(c)
		if c.Port != before.Port || c.StandardConnectionString != before.StandardConnectionString {
			if err := store.UpdateFlexCluster(ctx, c); err != nil {
				return fail(fmt.Errorf("record port of cluster %s: %w", c.Name, err))
			}
		}
		served++
	}
	log.Info("data plane: every cluster is a MongoDB endpoint", "host", dc.host, "bind", cmp.Or(dc.bind, dc.host), "ports", dc.ports,
		"tls", dc.tls != nil, "clusters_served", served, "blobs_swept", swept, "data", dataDir)
	stopRecheck := recheckAccess(plane, dc.recheck, plog)
	return d, func() { stopRecheck(); plane.Close(); unlock() }, nil
}

// recheckAccess checks the plane's open connections again every interval
// until stopped: what the API changes takes effect at once, but a
// deleteAfterDate comes by itself.
func recheckAccess(plane *dataplane.Plane, interval time.Duration, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := plane.Recheck(ctx); err != nil && ctx.Err() == nil {
				log.Warn("rechecking cluster connections", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// The data plane's artifacts are the lifecycle's.
var _ jobs.Artifacts = (*dataplane.DataArtifacts)(nil)
