package dataplane_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/ferret"
	"github.com/flexd/flexd/mongowire"
)

// benchFront returns a client through the front and one straight to the
// same embedded FerretDB (its Unix socket), on one cluster.
func benchFront(b *testing.B) (front, direct *mongo.Client) {
	b.Helper()
	dir := b.TempDir()
	m, err := ferret.New(ferret.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	be, _ := m.Backend("bench")
	p := mongowire.NewPorts("127.0.0.1", freeRangeB(b))
	ln, _, err := p.Listen(0)
	if err != nil {
		b.Fatal(err)
	}
	f := mongowire.Serve(ln, be, mongowire.Options{Name: "bench"})
	b.Cleanup(func() { f.Close() })
	front, err = mongo.Connect(options.Client().ApplyURI("mongodb://" + f.Addr().String() + "/?directConnection=true"))
	if err != nil {
		b.Fatal(err)
	}
	direct, err = mongo.Connect(options.Client().ApplyURI("mongodb://direct.invalid/?directConnection=true").SetDialer(be))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { front.Disconnect(context.Background()); direct.Disconnect(context.Background()) })
	return front, direct
}

// freeRangeB is a block of ports for benchmarks; the allocator skips any
// that are taken.
func freeRangeB(b *testing.B) mongowire.PortRange {
	first := 12000 + os.Getpid()%5000
	return mongowire.PortRange{First: first, Last: first + 200}
}

// BenchmarkFront compares a find of one document and an insertOne through
// the wire front with the same calls straight to FerretDB.
func BenchmarkFront(b *testing.B) {
	ctx := context.Background()
	front, direct := benchFront(b)
	coll := direct.Database("app").Collection("c")
	var docs []any
	for i := range 1000 {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i)}, {Key: "name", Value: fmt.Sprintf("user %d", i)}, {Key: "n", Value: i}})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	vias := []struct {
		name string
		c    *mongo.Client
	}{{"direct", direct}, {"front", front}}
	// Each operation runs direct then through the front, back to back, so
	// drift on a shared machine hits both alike; run with -count to see it.
	for _, via := range vias {
		c := via.c.Database("app").Collection("c")
		b.Run("FindOne/"+via.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					var out bson.Raw
					if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i%1000)}}).Decode(&out); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
	for _, via := range vias {
		ins := via.c.Database("app").Collection("ins")
		b.Run("InsertOne/"+via.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ins.InsertOne(ctx, bson.D{{Key: "v", Value: 1}, {Key: "s", Value: "some text"}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// benchMB is the data size of BenchmarkSnapshotRestore (FLEXD_BENCH_MB,
// default 100).
func benchMB() int {
	if n, err := strconv.Atoi(os.Getenv("FLEXD_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return 100
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkSnapshotRestore measures snapshot and restore MB/s of ~100 MB of
// documents against copying the cluster's data files with cp, and against
// the obvious client-side copy (cursor read + insertMany through the wire).
func BenchmarkSnapshotRestore(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	var lastCopied time.Time
	p, err := dataplane.Open(dataplane.Config{Dir: filepath.Join(dir, "clusters"), Ports: freeRangeB(b), TempDir: dir,
		SnapshotProgress: func(string, string) { lastCopied = time.Now() }})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	client := func(id string) *mongo.Client {
		if _, err := p.Serve(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
		uri, _ := p.ConnectionString(id)
		c, err := mongo.Connect(options.Client().ApplyURI(uri + "?directConnection=true"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Disconnect(ctx) })
		return c
	}
	src, naive := client("src"), client("naive")
	client("dst")
	// ~1 KiB documents with a few fields and two secondary indexes.
	total := benchMB() << 20
	pad := strings.Repeat("flexd ", 150)
	coll := src.Database("bench").Collection("docs")
	seedStart := time.Now()
	var batch []any
	for i, size := 0, 0; size < total; i++ {
		d := bson.D{{Key: "_id", Value: i}, {Key: "email", Value: fmt.Sprintf("user%d@example.com", i)}, {Key: "n", Value: i % 1000}, {Key: "t", Value: time.Unix(int64(i), 0)}, {Key: "pad", Value: pad}}
		raw, _ := bson.Marshal(d)
		size += len(raw)
		batch = append(batch, raw)
		if len(batch) == 5000 {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		coll.InsertMany(ctx, batch)
	}
	coll.Indexes().CreateMany(ctx, []mongo.IndexModel{{Keys: bson.D{{Key: "email", Value: 1}}}, {Keys: bson.D{{Key: "n", Value: 1}}}})

	b.Logf("seeded %d MB in %v", benchMB(), time.Since(seedStart))
	// The data files, checkpointed by closing the backend first.
	p.Stop("src")
	src = client("src")
	srcFiles := filepath.Join(dir, "clusters", "src")
	fileBytes := dirSize(srcFiles)
	mb := float64(total) / (1 << 20)

	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if out, err := exec.Command("cp", "-r", srcFiles, filepath.Join(dir, "cp-copy")).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		exec.Command("sync").Run()
		cpSec := time.Since(start).Seconds()
		os.RemoveAll(filepath.Join(dir, "cp-copy"))

		var dump bytes.Buffer
		dump.Grow(total + total/4)
		start = time.Now()
		if _, err := p.Snapshot(ctx, "src", &dump); err != nil {
			b.Fatal(err)
		}
		snapSec := time.Since(start).Seconds()
		pauseSec := lastCopied.Sub(start).Seconds() // writes are held until the last file is copied

		start = time.Now()
		if _, err := p.Restore(ctx, "dst", bytes.NewReader(dump.Bytes())); err != nil {
			b.Fatal(err)
		}
		restoreSec := time.Since(start).Seconds()

		// The files path flexd takes: the data files as a tar on disk, then
		// extracted into a staging generation and swapped in.
		tarPath := filepath.Join(dir, "files.tar")
		f, err := os.Create(tarPath)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := p.SnapshotFiles(ctx, "src", f); err != nil {
			b.Fatal(err)
		}
		f.Sync()
		f.Close()
		filesSnapSec := time.Since(start).Seconds()
		start = time.Now()
		f, err = os.Open(tarPath)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.RestoreFiles(ctx, "dst", f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		filesRestoreSec := time.Since(start).Seconds()
		os.Remove(tarPath)

		// The client-side alternative: read with a cursor, insertMany in batches.
		naive.Database("bench").Drop(ctx)
		start = time.Now()
		cur, err := src.Database("bench").Collection("docs").Find(ctx, bson.D{})
		if err != nil {
			b.Fatal(err)
		}
		out := naive.Database("bench").Collection("docs")
		var nb []any
		for cur.Next(ctx) {
			nb = append(nb, append(bson.Raw(nil), cur.Current...))
			if len(nb) == 1000 {
				if _, err := out.InsertMany(ctx, nb); err != nil {
					b.Fatal(err)
				}
				nb = nb[:0]
			}
		}
		if len(nb) > 0 {
			out.InsertMany(ctx, nb)
		}
		out.Indexes().CreateMany(ctx, []mongo.IndexModel{{Keys: bson.D{{Key: "email", Value: 1}}}, {Keys: bson.D{{Key: "n", Value: 1}}}})
		naiveSec := time.Since(start).Seconds()

		b.ReportMetric(float64(fileBytes)/(1<<20)/cpSec, "cp-MB/s")
		b.ReportMetric(mb/snapSec, "snapshot-MB/s")
		b.ReportMetric(pauseSec*1000, "write-pause-ms")
		b.ReportMetric(mb/restoreSec, "restore-MB/s")
		b.ReportMetric(mb/naiveSec, "driver-copy-MB/s")
		b.ReportMetric(mb/filesSnapSec, "files-snapshot-MB/s")
		b.ReportMetric(mb/filesRestoreSec, "files-restore-MB/s")
		b.ReportMetric(float64(dump.Len())/(1<<20), "dump-MB")
		b.ReportMetric(float64(fileBytes)/(1<<20), "files-MB")
	}
}

func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkIdleClusters serves 1,000 clusters (FLEXD_BENCH_CLUSTERS) that
// nobody uses, and reports the process RSS they add, the time to serve them
// all, and the first query on a cold cluster.
func BenchmarkIdleClusters(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("FLEXD_BENCH_CLUSTERS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for range b.N {
		dir := b.TempDir()
		runtime.GC()
		before := rssKB()
		p, err := dataplane.Open(dataplane.Config{Dir: dir, Ports: mongowire.PortRange{First: 30000, Last: 30000 + n + 500}, IdleTimeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := range n {
			if _, err := p.Serve(ctx, fmt.Sprintf("c%04d", i), 0); err != nil {
				b.Fatal(err)
			}
		}
		serveAll := time.Since(start)
		runtime.GC()
		after := rssKB()

		uri, _ := p.ConnectionString(fmt.Sprintf("c%04d", n/2))
		start = time.Now()
		c, err := mongo.Connect(options.Client().ApplyURI(uri + "?directConnection=true"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Database("app").Collection("c").CountDocuments(ctx, bson.D{}); err != nil {
			b.Fatal(err)
		}
		cold := time.Since(start)
		c.Disconnect(ctx)
		p.Close()

		// Then open every cluster once and let them all go idle again: what
		// closed FerretDB instances leave behind.
		if os.Getenv("FLEXD_BENCH_TOUCH") != "" {
			p2, err := dataplane.Open(dataplane.Config{Dir: dir, Ports: mongowire.PortRange{First: 30000, Last: 30000 + n + 500}, IdleTimeout: 50 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				id := fmt.Sprintf("c%04d", i)
				p2.Serve(ctx, id, 0)
				uri, _ := p2.ConnectionString(id)
				c, err := mongo.Connect(options.Client().ApplyURI(uri))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "i", Value: i}}); err != nil {
					b.Fatal(err)
				}
				c.Disconnect(ctx)
			}
			time.Sleep(time.Second) // past the idle timeout: every instance closes
			runtime.GC()
			b.ReportMetric(float64(rssKB()-before)/1024, "after-touching-all-RSS-MB")
			b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines-after")
			p2.Close()
		}
		b.ReportMetric(float64(after-before)/1024, "idle-RSS-MB")
		b.ReportMetric(float64(after)/1024, "total-RSS-MB")
		b.ReportMetric(serveAll.Seconds()*1000, "serve-all-ms")
		b.ReportMetric(float64(cold.Microseconds())/1000, "cold-first-query-ms")
	}
}

// BenchmarkFrontInterleaved alternates each call between the direct path
// and the front, one at a time, and reports both latencies and the front's
// share of the direct req/s: on a shared, noisy machine the interleaving
// makes both sides see the same noise.
func BenchmarkFrontInterleaved(b *testing.B) {
	ctx := context.Background()
	front, direct := benchFront(b)
	var docs []any
	for i := range 1000 {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i)}, {Key: "name", Value: fmt.Sprintf("user %d", i)}, {Key: "n", Value: i}})
	}
	if _, err := direct.Database("app").Collection("c").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	ops := map[string]func(c *mongo.Client, i int) error{
		"FindOne": func(c *mongo.Client, i int) error {
			var out bson.Raw
			return c.Database("app").Collection("c").FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("id%d", i%1000)}}).Decode(&out)
		},
		"InsertOne": func(c *mongo.Client, i int) error {
			_, err := c.Database("app").Collection("ins").InsertOne(ctx, bson.D{{Key: "v", Value: i}, {Key: "s", Value: "some text"}})
			return err
		},
	}
	for _, name := range []string{"FindOne", "InsertOne"} {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			var dDirect, dFront time.Duration
			for i := range b.N {
				for k, c := range []*mongo.Client{direct, front} {
					if i%2 == 1 { // alternate which goes first
						c = []*mongo.Client{front, direct}[k]
					}
					start := time.Now()
					if err := op(c, i); err != nil {
						b.Fatal(err)
					}
					if c == direct {
						dDirect += time.Since(start)
					} else {
						dFront += time.Since(start)
					}
				}
			}
			b.ReportMetric(float64(dDirect.Microseconds())/float64(b.N), "direct-µs/op")
			b.ReportMetric(float64(dFront.Microseconds())/float64(b.N), "front-µs/op")
			b.ReportMetric(100*float64(dDirect)/float64(dFront), "front-%-of-direct-req/s")
		})
		// Scenario 8's shape: 10 workers, each alternating a call
		// through the front and one direct. Run with -cpu 1 to see what
		// one Go P (flexd pinned to one CPU) does to the front's share.
		b.Run(name+"/10workers", func(b *testing.B) {
			var mu sync.Mutex
			var dDirect, dFront time.Duration
			var n int
			b.SetParallelism(max(1, 10/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				var lDirect, lFront time.Duration
				i := 0
				for pb.Next() {
					for k := range 2 {
						c := []*mongo.Client{direct, front}[(i+k)%2] // alternate which goes first
						start := time.Now()
						if err := op(c, i); err != nil {
							b.Error(err)
							return
						}
						if c == direct {
							lDirect += time.Since(start)
						} else {
							lFront += time.Since(start)
						}
					}
					i++
				}
				mu.Lock()
				dDirect, dFront, n = dDirect+lDirect, dFront+lFront, n+i
				mu.Unlock()
			})
			b.ReportMetric(float64(dDirect.Microseconds())/float64(n), "direct-µs/op")
			b.ReportMetric(float64(dFront.Microseconds())/float64(n), "front-µs/op")
			b.ReportMetric(100*float64(dDirect)/float64(dFront), "front-%-of-direct-req/s")
		})
	}
}
