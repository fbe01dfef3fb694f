package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// batchWrite is one multi-document write command of the writers below:
// when it was sent and when it was acknowledged.
type batchWrite struct {
	id          string
	sent, acked time.Time
}

// TestSnapshotInstantUnderConcurrentWriters checks the snapshot's instant
// rule through the public API and the Go driver, with writers going on
// throughout: a batch acknowledged before the snapshot was requested is in
// it, a batch sent after the snapshot was seen COMPLETED is not, and no
// batch (one insertMany into app.a, one bulkWrite into app2.b: two data
// files) is in it in part, and none is in app2.b without its earlier
// write to app.a. The snapshot is read back by restoring it into
// another cluster.
func TestSnapshotInstantUnderConcurrentWriters(t *testing.T) {
	p := startPlane(t, t.TempDir())
	p.g = p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"instant"}`)["id"].(string)
	p.must(201, "POST", "/api/atlas/v2/groups/"+p.g+"/databaseUsers", dbUserBody)
	p.flex = "/api/atlas/v2/groups/" + p.g + "/flexClusters"
	ctx := context.Background()
	src, _ := p.cluster("src")
	dst, _ := p.cluster("dst")

	const writers, perBatch = 4, 8
	var mu sync.Mutex
	var done []batchWrite
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := src.Database("app").Collection("a")
			b := src.Database("app2").Collection("b")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%05d", w, i)
				var docs []any
				var models []mongo.WriteModel
				for j := range perBatch {
					doc := bson.D{{Key: "_id", Value: fmt.Sprintf("%s-%d", id, j)}, {Key: "batch", Value: id}}
					docs = append(docs, doc)
					models = append(models, mongo.NewInsertOneModel().SetDocument(doc))
				}
				bw := batchWrite{id: id + "/a", sent: time.Now()}
				if _, err := a.InsertMany(ctx, docs); err != nil {
					t.Error(err)
					return
				}
				bw.acked = time.Now()
				bw2 := batchWrite{id: id + "/b", sent: time.Now()}
				if _, err := b.BulkWrite(ctx, models); err != nil {
					t.Error(err)
					return
				}
				bw2.acked = time.Now()
				mu.Lock()
				done = append(done, bw, bw2)
				mu.Unlock()
			}
		}()
	}
	acked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(done)
	}
	p.await("writes before the snapshot", func() bool { return acked() >= 40 })
	requested := time.Now()
	snap := p.snapshot("src") // returns once it has seen COMPLETED
	completed := time.Now()
	n := acked()
	p.await("writes after the snapshot", func() bool { return acked() >= n+4*writers })
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	job := p.restoreJob("src", snap, "dst")
	p.must(200, "POST", "/_flexd/clock:advance", `{"by":"1h"}`)
	p.await("restore COMPLETED", func() bool { return p.job("src", job)["status"] == "COMPLETED" })
	in := map[string]int{}
	for _, coll := range []*mongo.Collection{dst.Database("app").Collection("a"), dst.Database("app2").Collection("b")} {
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			in[cur.Current.Lookup("batch").StringValue()+"/"+coll.Name()]++
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
	}
	var before, after, between int
	for _, bw := range done {
		got := in[bw.id]
		switch {
		case got != 0 && got != perBatch:
			t.Errorf("batch %s is in the snapshot in part: %d of %d documents", bw.id, got, perBatch)
		case bw.acked.Before(requested):
			before++
			if got != perBatch {
				t.Errorf("batch %s was acknowledged before the snapshot was requested but is not in it", bw.id)
			}
		case bw.sent.After(completed):
			after++
			if got != 0 {
				t.Errorf("batch %s was sent after the snapshot completed but is in it", bw.id)
			}
		default:
			between++
		}
	}
	// A writer sends a batch's bulkWrite into app2.b only once its
	// insertMany into app.a was acknowledged: an instant that holds the
	// one holds the other, though the two are in different data files.
	for id, got := range in {
		if a, ok := strings.CutSuffix(id, "/b"); ok && got > 0 && in[a+"/a"] == 0 {
			t.Errorf("batch %s is in app2.b but not in app.a: the snapshot is not one instant", a)
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("the writes did not straddle the snapshot: %d batches before it, %d after", before, after)
	}
	t.Logf("%d batches acknowledged before the snapshot, %d during it, %d sent after it", before, between, after)
}
