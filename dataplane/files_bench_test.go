package dataplane_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/fsblob"
)

// BenchmarkArtifacts measures the path the lifecycle takes
// (DataArtifacts.Capture into the blob store, Apply from it) on
// FLEXD_BENCH_MB MB of ~1 KB documents, against cp -r of the cluster's
// data files followed by an fsync of the copies, in the same run, and how
// long each snapshot held the cluster's writes.
//
//	FLEXD_BENCH_MB=100 go test ./dataplane -run XXX -bench Artifacts -benchtime 3x -cpuprofile cpu.out
func BenchmarkArtifacts(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	var paused time.Duration
	p, err := dataplane.Open(dataplane.Config{Dir: filepath.Join(dir, "clusters"), Ports: freeRangeB(b), TempDir: filepath.Join(dir, "tmp"),
		SnapshotPaused: func(_ string, d time.Duration) { paused += d }})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	d := &dataplane.DataArtifacts{Plane: p, Blobs: blobs}
	for _, id := range []string{"src", "dst"} {
		if _, err := p.Serve(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
	}
	uri, _ := p.ConnectionString("src")
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Disconnect(ctx)
	total := benchMB() << 20
	coll := c.Database("bench").Collection("docs")
	pad := strings.Repeat("flexd ", 150)
	var batch []any
	for i, size := 0, 0; size < total; i++ {
		raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: i}, {Key: "email", Value: fmt.Sprintf("user%d@example.com", i)}, {Key: "n", Value: i % 1000}, {Key: "pad", Value: pad}})
		size += len(raw)
		batch = append(batch, raw)
		if len(batch) == 2000 || size >= total {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := coll.Indexes().CreateMany(ctx, []mongo.IndexModel{{Keys: bson.D{{Key: "email", Value: 1}}}, {Keys: bson.D{{Key: "n", Value: 1}}}}); err != nil {
		b.Fatal(err)
	}
	gen, err := filepath.Glob(filepath.Join(dir, "clusters", "src", "gen-*"))
	if err != nil || len(gen) != 1 {
		b.Fatalf("the live generation: %v %v", gen, err)
	}
	mb := float64(total) / 1e6
	var cpSec, snapSec, restoreSec float64
	b.ResetTimer()
	for i := range b.N {
		out := filepath.Join(dir, "cp")
		start := time.Now()
		if o, err := exec.Command("cp", "-r", gen[0], out).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, o)
		}
		files, _ := filepath.Glob(filepath.Join(out, "*"))
		if o, err := exec.Command("sync", files...).CombinedOutput(); err != nil {
			b.Fatalf("sync: %v %s", err, o)
		}
		cpSec += time.Since(start).Seconds()
		os.RemoveAll(out)

		start = time.Now()
		a, err := d.Capture(ctx, &flexd.FlexCluster{ID: "src"}, fmt.Sprintf("snap%d", i))
		if err != nil {
			b.Fatal(err)
		}
		snapSec += time.Since(start).Seconds()
		start = time.Now()
		if _, err := d.Apply(ctx, "job", a, &flexd.FlexCluster{ID: "dst"}); err != nil {
			b.Fatal(err)
		}
		d.Released("job", "dst")
		restoreSec += time.Since(start).Seconds()
		d.Dropped(a)
	}
	b.ReportMetric(mb*float64(b.N)/cpSec, "cp-MB/s")
	b.ReportMetric(mb*float64(b.N)/snapSec, "snapshot-MB/s")
	b.ReportMetric(mb*float64(b.N)/restoreSec, "restore-MB/s")
	b.ReportMetric(100*cpSec/snapSec, "snapshot-%-of-cp")
	b.ReportMetric(paused.Seconds()*1e3/float64(b.N), "write-pause-ms")
	b.ReportMetric(100*cpSec/restoreSec, "restore-%-of-cp")
}
