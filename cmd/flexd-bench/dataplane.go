package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mopts "go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The data plane's scenarios, on a flexd of their own (a fresh data
// directory), through the public API and the clusters' connection strings
// with the official Go driver:
//
//	7  snapshot and restore of -data-mb MB of documents, against cp of the
//	   cluster's data files in the same run, and a restore against a
//	   client-side copy through the wire (cursor read + insertMany), and
//	   the snapshot's download (first: built; second: the kept file)
//	8  the wire front's cost: find-one and insertOne through the front
//	   against the same calls straight to the cluster's embedded FerretDB
//	9  -idle-clusters idle clusters: RSS, start-up, first query on a cold
//	   cluster

// dataPlane runs scenarios 9, 8 and 7 on a fresh flexd.
func (b *bench) dataPlane(ctx context.Context) error {
	b.dataDir = filepath.Join(b.dir, "data-plane")
	if err := b.start(ctx, "9", "ready after start, fresh data dir (data plane)"); err != nil {
		return err
	}
	b.creds.bearer = ""
	cl, err := newClient(b.addr, b.creds)
	if err != nil {
		return err
	}
	defer func() { cl.c.Close() }()
	if err := cl.detectAuth(); err != nil {
		return err
	}
	var p idOf
	if err := cl.call("POST", "/api/atlas/v2/groups", acceptProject, map[string]string{"name": "data-plane"}, 201, &p); err != nil {
		return err
	}
	b.group = p.ID
	// A database user for the driver's connections, for a flexd whose
	// endpoints authenticate (SCRAM); dataCluster finds out whether they do.
	b.dbUser = ""
	user := map[string]any{"databaseName": "admin", "username": "bench", "password": benchDBPassword,
		"roles": []map[string]string{{"roleName": "atlasAdmin", "databaseName": "admin"}}}
	if err := cl.call("POST", projectPath(b.group)+"/databaseUsers", acceptProject, user, 201, nil); err != nil {
		b.logf("no database user (%v): connecting without one", err)
		b.authProbed = true
	}
	if _, err := b.dataCluster(cl, "probe"); err != nil { // finds out about the user
		return err
	}
	if err := b.idleClusters(ctx, cl); err != nil {
		return err
	}
	// idleClusters restarted flexd.
	cl.c.Close()
	if cl, err = newClient(b.addr, b.creds); err != nil {
		return err
	}
	if err := b.wireFront(ctx, cl); err != nil {
		return err
	}
	for _, f := range strings.Split(b.o.dataMB, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || mb < 1 {
			return fmt.Errorf("-data-mb: %q is not a size in MB", f)
		}
		if err := b.snapshotRestore(ctx, cl, mb); err != nil {
			return err
		}
	}
	return nil
}

// benchDBPassword is the password of the benchmark's database user.
const benchDBPassword = "bench-Passw0rd-1234"

// withUser puts the benchmark's database user into a connection string,
// once dataCluster has found that the endpoints want one.
func (b *bench) withUser(uri string) string {
	if b.dbUser == "" {
		return uri
	}
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	u.User = url.UserPassword(b.dbUser, benchDBPassword)
	q := u.Query()
	q.Set("authSource", "admin")
	u.RawQuery = q.Encode()
	return u.String()
}

// probeAuth finds out, on the first cluster, whether its endpoint wants
// the database user (flexd with SCRAM at the endpoints) or takes
// connections without one (flexd before it): the user is used if a
// connection with it works.
func (b *bench) probeAuth(ctx context.Context, uri string) {
	if b.authProbed {
		return
	}
	b.authProbed = true
	b.dbUser = "bench"
	c, err := connectURI(b.withUser(uri))
	if err == nil {
		err = c.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
		disconnect(c)
	}
	if err != nil {
		b.logf("the cluster endpoints do not take the database user (%v): connecting without one", err)
		b.dbUser = ""
		return
	}
	b.rep.Auth = strings.TrimPrefix(b.rep.Auth+"; cluster endpoints: SCRAM database user", "; ")
}

// cluster is a cluster the data-plane scenarios created.
type cluster struct {
	name, id, uri string
}

// dataCluster creates a cluster, waits until it is IDLE and reads its id
// and connection string.
func (b *bench) dataCluster(cl *client, name string) (*cluster, error) {
	if err := cl.createCluster(b.group, name); err != nil {
		return nil, err
	}
	var c struct {
		ID                string `json:"id"`
		ConnectionStrings struct {
			Standard string `json:"standard"`
		} `json:"connectionStrings"`
	}
	if err := cl.call("GET", clusterPath(b.group, name), acceptFlex, nil, 200, &c); err != nil {
		return nil, err
	}
	if c.ConnectionStrings.Standard == "" {
		return nil, fmt.Errorf("cluster %s has no connection string: is the data plane on?", name)
	}
	b.probeAuth(context.Background(), c.ConnectionStrings.Standard)
	return &cluster{name: name, id: c.ID, uri: b.withUser(c.ConnectionStrings.Standard)}, nil
}

func connectURI(uri string) (*mongo.Client, error) {
	return mongo.Connect(mopts.Client().ApplyURI(uri).SetRetryWrites(false).SetTimeout(10 * time.Minute).SetMaxPoolSize(64))
}

func disconnect(c *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Disconnect(ctx)
}

// 9: idle clusters. The clusters are created through the API (4 at a
// time, each waited for until IDLE); then flexd is restarted on them, and
// a few that nothing has touched since are queried for the first time.
func (b *bench) idleClusters(ctx context.Context, cl *client) error {
	n := b.o.idleClusters
	b.logf("scenario 9: %d idle clusters", n)
	before := b.flexd.rss()
	b.rep.add("9", "RSS idle after start, no cluster").Value = mib(before)
	t0 := time.Now()
	var mu sync.Mutex
	var firstErr error
	next := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := newClient(b.addr, b.creds)
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
				return
			}
			defer c.c.Close()
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= n || firstErr != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := c.createCluster(b.group, fmt.Sprintf("idle%05d", i)); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("scenario 9: %w", firstErr)
	}
	created := time.Since(t0)
	after := b.flexd.rss()
	r := b.rep.add("9", fmt.Sprintf("create %d clusters through the API, each to IDLE", n))
	r.Value = fmt.Sprintf("%.0f clusters/s", float64(n)/created.Seconds())
	r.Note = fmt.Sprintf("%.1fs in all, 4 at a time", created.Seconds())
	r = b.rep.add("9", fmt.Sprintf("RSS with %d idle clusters served", n))
	r.Value = mib(after)
	r.Note = fmt.Sprintf("%+.1f MiB for the clusters (target: well under 300 MB)", float64(after-before)/(1<<20))

	b.flexd.stop()
	if err := b.start(ctx, "9", fmt.Sprintf("ready after restart, %d idle clusters served", n)); err != nil {
		return err
	}
	b.rep.add("9", fmt.Sprintf("RSS idle after restart, %d clusters", n)).Value = mib(b.flexd.rss())

	// First query on clusters nothing has touched since the restart: a
	// new client, its handshake, FerretDB's start and a find.
	c2, err := newClient(b.addr, b.creds)
	if err != nil {
		return err
	}
	defer c2.c.Close()
	samples := min(n, 20)
	var lat []time.Duration
	for i := range samples {
		name := fmt.Sprintf("idle%05d", i*n/samples)
		var c struct {
			ConnectionStrings struct {
				Standard string `json:"standard"`
			} `json:"connectionStrings"`
		}
		if err := c2.call("GET", clusterPath(b.group, name), acceptFlex, nil, 200, &c); err != nil {
			return err
		}
		t0 := time.Now()
		mc, err := connectURI(b.withUser(c.ConnectionStrings.Standard))
		if err != nil {
			return err
		}
		err = mc.Database("app").Collection("x").FindOne(ctx, bson.D{}).Err()
		el := time.Since(t0)
		disconnect(mc)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("scenario 9: first query on %s: %w", name, err)
		}
		lat = append(lat, el)
	}
	slices.Sort(lat)
	r = b.rep.add("9", fmt.Sprintf("first query on a cold cluster (connect + find), %d clusters", samples))
	r.Value = fmt.Sprintf("p50 %s, max %s", dur(lat[len(lat)/2]), dur(lat[len(lat)-1]))
	r.Note = "target: <= 50ms"
	return nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// 8: the wire front's cost per call. The direct way in is the cluster's
// FerretDB's own Unix socket, which only flexd's process holds: the
// benchmark finds it in /proc (the listening Unix sockets of flexd's
// process that appear when the cluster's FerretDB starts), so flexd needs
// no flag or route for it. Each worker alternates front and direct calls.
func (b *bench) wireFront(ctx context.Context, cl *client) error {
	c, err := b.dataCluster(cl, "wire")
	if err != nil {
		return err
	}
	socksBefore, err := ferretSockets(b.flexd.cmd.Process.Pid)
	if err != nil {
		r := b.rep.add("8", "wire front vs FerretDB direct")
		r.Note = "skipped: " + err.Error()
		return nil
	}
	front, err := connectURI(c.uri)
	if err != nil {
		return err
	}
	defer disconnect(front)
	coll := front.Database("bench").Collection("one")
	var docs []any
	for i := range 1000 {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i)}, {Key: "name", Value: fmt.Sprintf("user %d", i)}, {Key: "n", Value: i}})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		return err
	}
	socksAfter, err := ferretSockets(b.flexd.cmd.Process.Pid)
	if err != nil {
		return err
	}
	var sock string
	for _, s := range socksAfter {
		if !slices.Contains(socksBefore, s) {
			if sock != "" {
				sock = ""
				break
			}
			sock = s
		}
	}
	if sock == "" {
		r := b.rep.add("8", "wire front vs FerretDB direct")
		r.Note = fmt.Sprintf("skipped: cannot tell the cluster's FerretDB socket among %v", socksAfter)
		return nil
	}
	direct, err := mongo.Connect(mopts.Client().ApplyURI("mongodb://" + url.QueryEscape(sock) + "/?directConnection=true").
		SetRetryWrites(false).SetTimeout(time.Minute).SetMaxPoolSize(64))
	if err != nil {
		return err
	}
	defer disconnect(direct)

	ops := []struct {
		name string
		op   func(c *mongo.Client, w int) func() error
	}{
		{"find one document by _id", func(c *mongo.Client, w int) func() error {
			coll := c.Database("bench").Collection("one")
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			return func() error {
				var doc bson.Raw
				return coll.FindOne(ctx, bson.D{{Key: "_id", Value: "id" + strconv.Itoa(rng.IntN(1000))}}).Decode(&doc)
			}
		}},
		{"insertOne", func(c *mongo.Client, w int) func() error {
			coll := c.Database("bench").Collection("inserts")
			return func() error {
				_, err := coll.InsertOne(ctx, bson.D{{Key: "w", Value: w}, {Key: "name", Value: "a small document"}, {Key: "n", Value: 42}})
				return err
			}
		}},
	}
	for _, op := range ops {
		b.logf("scenario 8: %s, front vs direct", op.name)
		f, d, err := interleaved(ctx, b.o.conns, b.o.warmup, b.o.duration, func(w int) (func() error, func() error) {
			return op.op(front, w), op.op(direct, w)
		})
		if err != nil {
			return fmt.Errorf("scenario 8 (%s): %w", op.name, err)
		}
		r := b.rep.add("8", op.name+": front (ceiling: FerretDB direct)")
		r.Flexd = &f
		r.setCeiling(d)
		r.Note = "each worker alternates front and direct calls; req/s = workers / mean latency; target: >= 90%"
	}
	return nil
}

// interleaved is a closed loop (drive) for two ways of making the same call: each
// worker alternates them (in turn first), so that both see the same load
// on a shared machine, and each side's req/s is what the workers would
// make on it alone at its mean latency.
func interleaved(ctx context.Context, workers int, warmup, d time.Duration, newOps func(worker int) (a, b func() error)) (stats, stats, error) {
	type side struct {
		lat  []time.Duration
		errs int
		err  error
	}
	res := make([][2]side, workers)
	var wg sync.WaitGroup
	measuring, stop := make(chan struct{}), make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := newOps(w)
			ops := [2]func() error{a, b}
			timed := false
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-measuring:
					timed = true
				default:
				}
				for k := range 2 {
					j := (i + k) % 2
					t0 := time.Now()
					err := ops[j]()
					el := time.Since(t0)
					s := &res[w][j]
					switch {
					case !timed:
					case err != nil:
						s.errs++
						if s.err == nil {
							s.err = err
						}
					default:
						s.lat = append(s.lat, el)
					}
				}
			}
		}()
	}
	sleep(ctx, warmup)
	start := time.Now()
	close(measuring)
	sleep(ctx, d)
	close(stop)
	elapsed := time.Since(start)
	wg.Wait()
	var out [2]stats
	for j := range 2 {
		var all []time.Duration
		var sum time.Duration
		st := &out[j]
		for w := range res {
			s := res[w][j]
			all = append(all, s.lat...)
			st.Errors += s.errs
			if s.err != nil && st.FirstErr == "" {
				st.FirstErr = s.err.Error()
			}
		}
		for _, l := range all {
			sum += l
		}
		st.Calls, st.Elapsed = len(all), elapsed
		if len(all) == 0 {
			return out[0], out[1], fmt.Errorf("no successful call (%d errors): %s", st.Errors, st.FirstErr)
		}
		st.PerSec = float64(workers) / (sum / time.Duration(len(all))).Seconds()
		st.P50, st.P99 = percentiles(all)
	}
	return out[0], out[1], ctx.Err()
}

// ferretSockets lists the listening Unix sockets of process pid that are
// embedded FerretDB instances (flexd puts them in a flexd-fdb-* directory).
func ferretSockets(pid int) ([]string, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, fmt.Errorf("no /proc: %w", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		} else if err != nil {
			continue
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/unix", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var socks []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || !inodes[fields[6]] || fields[5] != "01" {
			continue
		}
		if path := fields[7]; strings.Contains(path, "/flexd-fdb-") && strings.HasSuffix(path, ".sock") {
			socks = append(socks, path)
		}
	}
	return socks, sc.Err()
}

// docSize is the BSON size of the documents scenario 7 writes.
const docSize = 1024

// seedDocs writes about mb MB of ~1 KB documents (BSON bytes) into
// bench.docs of c in insertMany batches of 1000, with two secondary
// indexes, and returns the BSON bytes written and the count.
func seedDocs(ctx context.Context, c *mongo.Client, mb int) (int64, int, error) {
	coll := c.Database("bench").Collection("docs")
	if _, err := coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "name", Value: 1}}, Options: mopts.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "city", Value: 1}, {Key: "n", Value: -1}}},
	}); err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(7, 9))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	pad := make([]byte, docSize)
	var total int64
	n, want := 0, mb<<20/docSize
	for n < want {
		batch := make([]any, 0, 1000)
		for range min(1000, want-n) {
			for i := range pad {
				pad[i] = letters[rng.IntN(len(letters))]
			}
			doc := bson.D{{Key: "_id", Value: n}, {Key: "name", Value: fmt.Sprintf("user-%09d", n)},
				{Key: "n", Value: int64(rng.Int64())}, {Key: "city", Value: []string{"Oslo", "Lima", "Pune", "Kyiv"}[n%4]},
				{Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(n), 0))}, {Key: "pad", Value: ""}}
			raw, _ := bson.Marshal(doc)
			doc[5].Value = string(pad[:max(0, docSize-len(raw))])
			raw, _ = bson.Marshal(doc)
			batch = append(batch, bson.Raw(raw))
			total += int64(len(raw))
			n++
		}
		if _, err := coll.InsertMany(ctx, batch); err != nil {
			return 0, 0, err
		}
	}
	return total, n, nil
}

// 7: snapshot and restore of mb MB of documents.
func (b *bench) snapshotRestore(ctx context.Context, cl *client, mb int) error {
	label := fmt.Sprintf("%d MB", mb)
	b.logf("scenario 7: %s of documents", label)
	src, err := b.dataCluster(cl, fmt.Sprintf("src%d", mb))
	if err != nil {
		return err
	}
	dst, err := b.dataCluster(cl, fmt.Sprintf("dst%d", mb))
	if err != nil {
		return err
	}
	cpy, err := b.dataCluster(cl, fmt.Sprintf("copy%d", mb))
	if err != nil {
		return err
	}
	sc, err := connectURI(src.uri)
	if err != nil {
		return err
	}
	defer disconnect(sc)
	b.logf("scenario 7: writing %s of documents", label)
	t0 := time.Now()
	bytes, count, err := seedDocs(ctx, sc, mb)
	if err != nil {
		return fmt.Errorf("scenario 7: seed: %w", err)
	}
	seeded := time.Since(t0)
	docMB := float64(bytes) / 1e6
	rate := func(d time.Duration) string { return fmt.Sprintf("%.1f MB/s", docMB/d.Seconds()) }
	r := b.rep.add("7", label+": write the documents (insertMany of 1000, 1 client)")
	r.Value = rate(seeded)
	r.Note = fmt.Sprintf("%d documents, %.1f MB of BSON, 2 secondary indexes", count, docMB)

	// The physical limit: cp of the cluster's live data files, and sync.
	gen, err := liveGeneration(filepath.Join(b.dataDir, "clusters", src.id))
	if err != nil {
		return err
	}
	files := dirSize(gen)
	out := filepath.Join(b.dir, "cp-"+src.id)
	t0 = time.Now()
	if outb, err := exec.CommandContext(ctx, "cp", "-r", gen, out).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v: %s", err, outb)
	}
	// sync of the copied files only (fsync each, as the blob store does
	// with an artifact), not of every dirty page of the machine.
	copied, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil || len(copied) == 0 {
		return fmt.Errorf("cp copied nothing from %s (%v)", gen, err)
	}
	if outb, err := exec.CommandContext(ctx, "sync", copied...).CombinedOutput(); err != nil {
		return fmt.Errorf("sync: %v: %s", err, outb)
	}
	cpTime := time.Since(t0)
	os.RemoveAll(out)
	r = b.rep.add("7", label+": cp -r of the data files + sync of them (the physical limit)")
	r.Value = fmt.Sprintf("%.1f MB/s of files", float64(files)/1e6/cpTime.Seconds())
	r.Note = fmt.Sprintf("%.1f MB of files in %s = %s of documents", float64(files)/1e6, dur(cpTime), rate(cpTime))

	// Snapshot through the API: from the request to COMPLETED.
	b.logf("scenario 7: %s snapshot and restore", label)
	t0 = time.Now()
	snap, err := cl.takeSnapshot(b.group, src.name)
	if err != nil {
		return err
	}
	snapTime := time.Since(t0)
	r = b.rep.add("7", label+": snapshot, request to COMPLETED")
	r.Value = rate(snapTime)
	r.Note = fmt.Sprintf("%s; %.0f%% of cp (target: >= 50%%)", dur(snapTime), 100*cpTime.Seconds()/snapTime.Seconds())

	// Restore into another cluster: from the request to COMPLETED.
	t0 = time.Now()
	job, err := cl.createRestore(b.group, src.name, snap, dst.name)
	if err != nil {
		return err
	}
	if err := cl.waitFor(restoreJobsPath(b.group, src.name)+"/"+job, acceptFlex, "COMPLETED", 30*time.Minute); err != nil {
		return err
	}
	restoreTime := time.Since(t0)
	dc, err := connectURI(dst.uri)
	if err != nil {
		return err
	}
	defer disconnect(dc)
	if got, err := dc.Database("bench").Collection("docs").EstimatedDocumentCount(ctx); err != nil || got != int64(count) {
		return fmt.Errorf("scenario 7: the restored cluster holds %d documents (%v), want %d", got, err, count)
	}

	r = b.rep.add("7", label+": restore into another cluster, request to COMPLETED")
	r.Value = rate(restoreTime)
	r.Note = fmt.Sprintf("%s; %.0f%% of cp (target: >= 25%%)", dur(restoreTime), 100*cpTime.Seconds()/restoreTime.Seconds())
	if mb <= b.o.wireCopyMB {
		// The alternative a user has: read through the wire, insertMany
		// into another cluster.
		b.logf("scenario 7: %s client-side copy through the wire", label)
		cc, err := connectURI(cpy.uri)
		if err != nil {
			return err
		}
		defer disconnect(cc)
		t0 = time.Now()
		if err := wireCopy(ctx, sc, cc); err != nil {
			return fmt.Errorf("scenario 7: client-side copy: %w", err)
		}
		copyTime := time.Since(t0)
		r.Note += fmt.Sprintf("; %.1fx the client-side copy (target: >= 2x)", copyTime.Seconds()/restoreTime.Seconds())
		r = b.rep.add("7", label+": client-side copy through the wire (cursor + insertMany of 1000, indexes first)")
		r.Value = rate(copyTime)
		r.Note = dur(copyTime)
	}

	return b.download(ctx, cl, src, snap, label, docMB)
}

// download fetches the snapshot's .tgz twice through its download link:
// the first request builds it, the second serves the kept file. flexd's
// RSS is sampled throughout: a download streams, so it must not grow
// with the snapshot's size.
func (b *bench) download(ctx context.Context, cl *client, src *cluster, snap, label string, docMB float64) error {
	var link struct {
		SnapshotURL string `json:"snapshotUrl"`
	}
	if err := cl.call("POST", clusterPath(b.group, src.name)+"/backup/download", acceptFlex,
		map[string]string{"snapshotId": snap}, 200, &link); err != nil {
		return err
	}
	if link.SnapshotURL == "" {
		return errors.New("scenario 7: no snapshotUrl")
	}
	rssBefore := b.flexd.rss()
	for i, what := range []string{"first download (the .tgz is built)", "second download (the kept .tgz)"} {
		peakRSS := b.flexd.sampleRSS(50 * time.Millisecond)
		b.logf("scenario 7: %s %s", label, what)
		t0 := time.Now()
		n, err := fetch(ctx, link.SnapshotURL)
		el := time.Since(t0)
		peak := peakRSS()
		if err != nil {
			return fmt.Errorf("scenario 7: %s: %w", what, err)
		}
		r := b.rep.add("7", label+": "+what)
		r.Value = fmt.Sprintf("%.1f MB/s of documents", docMB/el.Seconds())
		r.Note = fmt.Sprintf("%s, %.1f MB .tgz; flexd RSS peak %s (%s before)", dur(el), float64(n)/1e6, mib(peak), mib(rssBefore))
		if i == 0 {
			rssBefore = b.flexd.rss()
		}
	}
	return nil
}

// fetch GETs url to its end and returns the bytes read.
func fetch(ctx context.Context, u string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return io.Copy(io.Discard, resp.Body)
}

// wireCopy copies every collection of from's "bench" database into to's
// as a client would without flexd's restore: indexes first, then a cursor
// read and insertMany batches of 1000.
func wireCopy(ctx context.Context, from, to *mongo.Client) error {
	db := from.Database("bench")
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return err
	}
	for _, name := range names {
		specs, err := db.Collection(name).Indexes().ListSpecifications(ctx)
		if err != nil {
			return err
		}
		dstColl := to.Database("bench").Collection(name)
		var models []mongo.IndexModel
		for _, s := range specs {
			if s.Name == "_id_" {
				continue
			}
			opts := mopts.Index().SetName(s.Name)
			if s.Unique != nil && *s.Unique {
				opts.SetUnique(true)
			}
			models = append(models, mongo.IndexModel{Keys: s.KeysDocument, Options: opts})
		}
		if len(models) > 0 {
			if _, err := dstColl.Indexes().CreateMany(ctx, models); err != nil {
				return err
			}
		}
		cur, err := db.Collection(name).Find(ctx, bson.D{}, mopts.Find().SetBatchSize(1000))
		if err != nil {
			return err
		}
		batch := make([]any, 0, 1000)
		for cur.Next(ctx) {
			batch = append(batch, bson.Raw(slices.Clone(cur.Current)))
			if len(batch) == 1000 {
				if _, err := dstColl.InsertMany(ctx, batch); err != nil {
					cur.Close(ctx)
					return err
				}
				batch = batch[:0]
			}
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if _, err := dstColl.InsertMany(ctx, batch); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveGeneration is the directory of a cluster's live data files: the
// generation its CURRENT file names (see package ferret).
func liveGeneration(clusterDir string) (string, error) {
	cur, err := os.ReadFile(filepath.Join(clusterDir, "CURRENT"))
	if err != nil {
		return "", fmt.Errorf("the cluster's data files: %w", err)
	}
	g, err := strconv.Atoi(strings.TrimSpace(string(cur)))
	if err != nil {
		return "", fmt.Errorf("the cluster's CURRENT: %q", cur)
	}
	return filepath.Join(clusterDir, fmt.Sprintf("gen-%06d", g)), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
