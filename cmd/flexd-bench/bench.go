package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// bench is one benchmark run: the flexd under test, what was seeded into
// it, and the report being filled in.
type bench struct {
	o       options
	log     io.Writer
	dir     string // data directory and scratch files
	dataDir string // flexd's data directory (one per flexd the run starts)
	// dbUser is the database user the driver connects to clusters as
	// (empty: endpoints that do not authenticate); authProbed tells
	// whether that has been found out.
	dbUser     string
	authProbed bool
	bin        string
	creds      *credentials
	rep        *report
	flexd      *process
	addr       string
	group      string // the project of the listed cluster
	snap       string // a completed snapshot of flexA
	jobID      string // a restore job of flexA
	targets    []string
	bulk       []bulkCluster
	// bulkProjects are the bulk loader's projects, by number.
	bulkProjects map[int]string
	// peakRSS is the largest RSS seen during load runs.
	peakRSS int64
	// stage collects the request targets whose ceiling is measured once the
	// current store size has been measured.
	stage []ceilingRun
}

// ceilingRun is a row whose ceiling is the canned answer to target.
type ceilingRun struct {
	row    *row
	target string
	page   canned
}

const listed = "flexA" // the cluster whose restore jobs the list scenarios read

func benchmark(ctx context.Context, o options, log io.Writer) (*report, error) {
	dir, err := os.MkdirTemp("", "flexd-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(log, "data directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{o: o, log: log, dir: dir, dataDir: filepath.Join(dir, "data"), creds: newCredentials(), rep: newReport(o), bulkProjects: map[int]string{}}
	b.bin = o.flexd
	if b.bin == "" {
		b.logf("building flexd")
		if b.bin, err = buildFlexd(ctx, dir); err != nil {
			return nil, err
		}
	}
	if !pinSelf(o.loadCPUs) {
		b.o.serverCPUs, b.o.loadCPUs = "", ""
		b.rep.Pinning = "none (no taskset, or one CPU)"
	}
	defer func() { b.flexd.stop() }()
	err = b.all(ctx)
	return b.rep, err
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "flexd-bench: "+format+"\n", args...)
}

func (b *bench) all(ctx context.Context) error {
	if b.o.dataOnly {
		return b.dataPlane(ctx)
	}
	// 6: start-up on a fresh data directory, then the idle footprint.
	if err := b.start(ctx, "6", "ready after start, fresh data dir"); err != nil {
		return err
	}
	b.rep.add("6", "RSS idle after start").Value = mib(b.flexd.rss())
	if err := b.seed(ctx); err != nil {
		return err
	}
	// The 1k store: the bulk loader writes through the service layer into
	// the stopped server's data directory.
	b.flexd.stop()
	if err := b.bulkLoad(ctx, 0, 10, 100); err != nil {
		return err
	}
	if err := b.start(ctx, "6", fmt.Sprintf("ready after restart, %d jobs", b.o.jobs+1000)); err != nil {
		return err
	}
	for _, f := range []func(context.Context) error{b.listBearer, b.listDigest, b.getAndSnapshots} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	small, err := b.scale(ctx, fmt.Sprintf("%d jobs", b.o.jobs+1000))
	if err != nil {
		return err
	}
	b.rep.add("6", "RSS idle after load runs").Value = mib(b.flexd.rss())
	b.rep.add("6", "RSS peak under load").Value = mib(b.peakRSS)
	if err := b.ceilings(ctx); err != nil {
		return err
	}
	if err := b.restores(ctx); err != nil {
		return err
	}

	// The large store.
	b.flexd.stop()
	perCluster := (b.o.scale - 1000) / (b.o.scaleClusters - 10)
	if err := b.bulkLoad(ctx, 10, b.o.scaleClusters, perCluster); err != nil {
		return err
	}
	total := b.o.jobs + 1000 + perCluster*(b.o.scaleClusters-10)
	if err := b.start(ctx, "6", fmt.Sprintf("ready after restart, %d jobs", total)); err != nil {
		return err
	}
	b.rep.add("6", fmt.Sprintf("RSS idle, %d jobs", total)).Value = mib(b.flexd.rss())
	large, err := b.scale(ctx, fmt.Sprintf("%d jobs", total))
	if err != nil {
		return err
	}
	for i := range small {
		if small[i].Flexd != nil && large[i].Flexd != nil && small[i].Flexd.P50 > 0 {
			b.rep.add("5", "p50 large / p50 small: "+strings.TrimPrefix(large[i].Name, "list ")).Value =
				fmt.Sprintf("%.2fx", float64(large[i].Flexd.P50)/float64(small[i].Flexd.P50))
		}
	}
	if err := b.ceilings(ctx); err != nil || b.o.controlOnly {
		return err
	}
	// 7-9: the data plane, on a flexd of its own (a fresh data directory),
	// so that neither side's figures carry the other's data.
	b.flexd.stop()
	return b.dataPlane(ctx)
}

// start starts flexd on the data directory and records its time to ready.
func (b *bench) start(ctx context.Context, scenario, name string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	env := append(b.creds.env(),
		"FLEXD_LISTEN="+addr,
		"FLEXD_DATA_DIR="+b.dataDir,
		"FLEXD_LOG_LEVEL=warn",
		"FLEXD_CLUSTER_PORTS="+b.o.clusterPorts,
	)
	env = append(env, zeroKnobs(flexdHelp(b.bin))...)
	env = append(env, b.o.env...)
	p, err := startProcess(ctx, pinned(b.o.serverCPUs, []string{b.bin, "serve"}), env, addr, "/readyz")
	if err != nil {
		return err
	}
	b.flexd, b.addr = p, addr
	b.rep.add(scenario, name).Value = dur(p.ready)
	return nil
}

// zeroKnobs sets every lifecycle duration this build of flexd has to zero,
// so that work completes as fast as the engine can do it.
func zeroKnobs(help string) []string {
	var env []string
	for line := range strings.SplitSeq(help, "\n") {
		_, rest, ok := strings.Cut(line, "(env FLEXD_")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ")")
		if strings.HasSuffix(name, "_TIME") || strings.HasSuffix(name, "_DELAY") || strings.HasSuffix(name, "_INTERVAL") {
			env = append(env, "FLEXD_"+name+"=0s")
		}
	}
	return env
}

// seed creates, through the API, the project, the listed cluster with a
// completed snapshot and o.jobs restore jobs, and the target clusters of
// scenario 4.
func (b *bench) seed(ctx context.Context) error {
	b.logf("seeding through the API")
	cl, err := newClient(b.addr, b.creds)
	if err != nil {
		return err
	}
	defer cl.c.Close()
	if err := cl.detectAuth(); err != nil {
		return err
	}
	b.rep.Auth = b.creds.describe()
	var p idOf
	if err := cl.call("POST", "/api/atlas/v2/groups", acceptProject, map[string]string{"name": "bench"}, 201, &p); err != nil {
		return err
	}
	b.group = p.ID
	nTargets := max(b.o.inflight, 1)
	for i := range nTargets {
		b.targets = append(b.targets, fmt.Sprintf("tgt%d", i))
	}
	for _, name := range append([]string{listed}, b.targets...) {
		if err := cl.createCluster(b.group, name); err != nil {
			return err
		}
	}
	if b.snap, err = cl.takeSnapshot(b.group, listed); err != nil {
		return err
	}
	// Restores into one target run one at a time, so spread them out.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	last := map[string]string{}
	for w, target := range b.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := newClient(b.addr, b.creds)
			if err == nil {
				defer c.c.Close()
			}
			for i := w; i < b.o.jobs && err == nil; i += len(b.targets) {
				var id string
				id, err = c.createRestore(b.group, listed, b.snap, target)
				mu.Lock()
				last[target], b.jobID = id, id
				mu.Unlock()
			}
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// The list must not change while it is measured.
	for _, id := range last {
		if err := cl.waitFor(restoreJobsPath(b.group, listed)+"/"+id, acceptFlex, "COMPLETED", 5*time.Minute); err != nil {
			return err
		}
	}
	return nil
}

func (c *credentials) describe() string {
	var s []string
	if c.bearer != "" {
		s = append(s, "Bearer (OAuth client credentials of the bootstrapped service account)")
	}
	if c.digest {
		s = append(s, "HTTP Digest (bootstrapped API key)")
	}
	if c.open {
		s = append(s, "none: this flexd serves the API without authentication")
	}
	return strings.Join(s, "; ")
}

// capture fetches target once more and keeps the exact answer for the
// ceiling.
func (b *bench) capture(r *row, target string, headers map[string]string) error {
	c, err := dial(b.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var resp response
	if err := c.do(request("GET", target, b.addr, headers, nil), &resp); err != nil {
		return err
	}
	if err := expect(&resp, 200); err != nil {
		return err
	}
	b.stage = append(b.stage, ceilingRun{row: r, target: target,
		page: canned{ContentType: resp.contentType, Body: append([]byte(nil), resp.body...)}})
	return nil
}

// ceilings measures the ceiling of every row of the current stage: a bare
// net/http server, on the server's CPUs, answering each target with the
// bytes flexd returned.
func (b *bench) ceilings(ctx context.Context) error {
	if len(b.stage) == 0 {
		return nil
	}
	pages := map[string]canned{}
	for _, c := range b.stage {
		pages[c.target] = c.page
	}
	file := filepath.Join(b.dir, "ceiling.json")
	data, err := json.Marshal(pages)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	p, err := startProcess(ctx, pinned(b.o.serverCPUs, []string{self}), []string{ceilingEnv + "=" + addr + "|" + file}, addr, "/readyz")
	if err != nil {
		return err
	}
	defer p.stop()
	for _, c := range b.stage {
		b.logf("ceiling of %s: %s", c.row.Scenario, c.row.Name)
		req := request("GET", c.target, addr, map[string]string{"Accept": acceptFlex}, nil)
		st, err := drive(ctx, addr, b.o.conns, b.o.warmup, b.o.duration, func(int) call {
			var resp response
			return func(cn *conn) error {
				if err := cn.do(req, &resp); err != nil {
					return err
				}
				return expect(&resp, 200)
			}
		})
		if err != nil {
			return fmt.Errorf("ceiling of %s: %w", c.row.Name, err)
		}
		c.row.setCeiling(st)
	}
	b.stage = nil
	return nil
}
