package ferret_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/ferret"
)

func connect(t *testing.T, d options.ContextDialer) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://ferret.invalid/?directConnection=true").SetDialer(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func newManager(t *testing.T, dir string, idle time.Duration) *ferret.Manager {
	t.Helper()
	m, err := ferret.New(ferret.Config{Dir: dir, IdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestDataSurvivesRestartAndDeleteRemovesIt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newManager(t, dir, time.Minute)
	b, err := m.Backend("c1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Running() {
		t.Fatal("backend running before its first connection")
	}
	c := connect(t, b)
	if _, err := c.Database("app").Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "ada"}}); err != nil {
		t.Fatal(err)
	}
	if !b.Running() {
		t.Fatal("backend not running after a connection")
	}
	c.Disconnect(ctx)
	m.Close()

	m2 := newManager(t, dir, time.Minute)
	b2, _ := m2.Backend("c1")
	var got bson.M
	if err := connect(t, b2).Database("app").Collection("users").FindOne(ctx, bson.D{}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["name"] != "ada" {
		t.Fatalf("after restart got %v", got)
	}
	// Another cluster's data is its own.
	other, _ := m2.Backend("c2")
	n, err := connect(t, other).Database("app").Collection("users").CountDocuments(ctx, bson.D{})
	if err != nil || n != 0 {
		t.Fatalf("c2 count = %d %v, want 0", n, err)
	}
	if err := m2.Delete("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c1")); !os.IsNotExist(err) {
		t.Fatalf("data of deleted cluster still there: %v", err)
	}
	if _, err := b2.DialContext(ctx, "", ""); err == nil {
		t.Fatal("dial of a deleted backend succeeded")
	}
	if _, err := m2.Backend("../x"); err == nil {
		t.Fatal("Backend accepted a path as id")
	}
}

func TestIdleBackendCloses(t *testing.T) {
	m := newManager(t, t.TempDir(), 50*time.Millisecond)
	b, _ := m.Backend("idle")
	conn, err := b.DialContext(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Running() {
		t.Fatal("not running while connected")
	}
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for b.Running() {
		if time.Now().After(deadline) {
			t.Fatal("backend still running long after its idle timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And it opens again on the next connection.
	n, err := connect(t, b).Database("x").Collection("y").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 0 {
		t.Fatalf("count after reopen = %d %v", n, err)
	}
}

func TestStagingCommitAndAbort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newManager(t, dir, time.Minute)
	b, _ := m.Backend("c")
	live := connect(t, b)
	if _, err := live.Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "old"}}); err != nil {
		t.Fatal(err)
	}

	s, err := b.Stage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, s).Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "aborted"}}); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	assertOnly(t, connect(t, b), "old")

	s, err = b.Stage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stage(ctx); err == nil {
		t.Fatal("a second concurrent Stage succeeded")
	}
	if _, err := connect(t, s).Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "new"}}); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, live, "old") // the live data is untouched until Commit
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, connect(t, b), "new")
	ents, _ := os.ReadDir(filepath.Join(dir, "c"))
	if len(ents) != 2 { // CURRENT and one generation
		t.Fatalf("after commit the cluster dir holds %d entries, want 2", len(ents))
	}

	// A staging a crash left behind is swept on the next start.
	s, _ = b.Stage(ctx)
	connect(t, s).Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "crashed"}})
	m.Close()
	m2 := newManager(t, dir, time.Minute)
	b2, _ := m2.Backend("c")
	assertOnly(t, connect(t, b2), "new")
	ents, _ = os.ReadDir(filepath.Join(dir, "c"))
	if len(ents) != 2 {
		t.Fatalf("after restart the cluster dir holds %d entries, want 2", len(ents))
	}
}

func assertOnly(t *testing.T, c *mongo.Client, want string) {
	t.Helper()
	cur, err := c.Database("d").Collection("c").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0]["v"] != want {
		t.Fatalf("documents = %v, want one with v=%s", docs, want)
	}
}

func TestOnlyFerretDBWarningsReachTheLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := ferret.New(ferret.Config{Dir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Backend("quiet")
	connect(t, b).Database("x").Collection("y").CountDocuments(context.Background(), bson.D{})
	m.Close()
	if strings.Contains(buf.String(), "level=INFO") || strings.Contains(buf.String(), "level=DEBUG") {
		t.Fatalf("FerretDB info/debug lines reached the log:\n%s", buf.String())
	}
}

func TestCopyIsAPrivateConsistentImage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newManager(t, dir, time.Minute)
	b, _ := m.Backend("c")
	live := connect(t, b)
	for _, db := range []string{"d", "e"} {
		if _, err := live.Database(db).Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "old"}}); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	cp, err := b.Copy(ctx, func(f string) { files = append(files, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("copied files = %v, want one per database", files)
	}
	// Writes after the copy do not reach it, and the copy does not touch the live data.
	live.Database("d").Collection("c").DeleteMany(ctx, bson.D{})
	assertOnly(t, connect(t, cp), "old")
	if _, err := connect(t, cp).Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "copy"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := live.Database("d").Collection("c").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Fatalf("a write to the copy reached the live data (%d documents)", n)
	}
	cp.Close()
	ents, _ := os.ReadDir(filepath.Join(dir, "c"))
	if len(ents) != 2 {
		t.Fatalf("after Close the cluster dir holds %d entries, want CURRENT and one generation", len(ents))
	}
	// A copy a crash left behind is swept on the next start.
	if _, err := b.Copy(ctx, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m2 := newManager(t, dir, time.Minute)
	m2.Backend("c")
	if ents, _ := os.ReadDir(filepath.Join(dir, "c")); len(ents) != 2 {
		t.Fatalf("after restart the cluster dir holds %d entries, want 2", len(ents))
	}
}

func TestDataDirWithSpaces(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"clusters #1", "what?", "100%"} {
		if _, err := ferret.New(ferret.Config{Dir: filepath.Join(t.TempDir(), bad)}); err == nil {
			t.Errorf("New(%q) succeeded; FerretDB would fail on first use", bad)
		}
	}
	m := newManager(t, filepath.Join(t.TempDir(), "flexd data", "clusters 1"), time.Minute)
	b, err := m.Backend("c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, b).Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "old"}}); err != nil {
		t.Fatal(err)
	}
	cp, err := b.Copy(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	assertOnly(t, connect(t, cp), "old")
}

// TestFirstCurrentLostInACrash: a new cluster's first CURRENT is written
// without fsync (a thousand new clusters would otherwise cost two fsyncs
// each); a crash may leave it missing or empty, and either reads as the
// first generation, whose data is still there.
func TestFirstCurrentLostInACrash(t *testing.T) {
	ctx := context.Background()
	for _, lost := range []string{"missing", "empty"} {
		t.Run(lost, func(t *testing.T) {
			dir := t.TempDir()
			m := newManager(t, dir, time.Minute)
			b, err := m.Backend("c1")
			if err != nil {
				t.Fatal(err)
			}
			c := connect(t, b)
			if _, err := c.Database("app").Collection("x").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
				t.Fatal(err)
			}
			c.Disconnect(ctx)
			m.Close()
			current := filepath.Join(dir, "c1", "CURRENT")
			if lost == "missing" {
				err = os.Remove(current)
			} else {
				err = os.WriteFile(current, nil, 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			b2, err := newManager(t, dir, time.Minute).Backend("c1")
			if err != nil {
				t.Fatalf("a cluster whose first CURRENT is %s: %v", lost, err)
			}
			n, err := connect(t, b2).Database("app").Collection("x").CountDocuments(ctx, bson.D{})
			if err != nil || n != 1 {
				t.Fatalf("a cluster whose first CURRENT is %s holds %d documents (%v), want its 1", lost, n, err)
			}
		})
	}
}

// TestCopyFilesWithTheirWAL: CopyFiles copies each database file with
// its -wal (the commits not yet checkpointed into the file), and Settle
// folds the -wal in, so the database file alone, as a snapshot tars it,
// holds every write acknowledged before the copy.
func TestCopyFilesWithTheirWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := newManager(t, dir, time.Minute)
	b, _ := m.Backend("c")
	live := connect(t, b)
	if _, err := live.Database("d").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "old"}}); err != nil {
		t.Fatal(err)
	}
	wals, _ := filepath.Glob(filepath.Join(dir, "c", "gen-*", "d.sqlite-wal"))
	if len(wals) != 1 {
		t.Fatalf("live -wal files: %v, want d.sqlite-wal", wals)
	}
	if st, err := os.Stat(wals[0]); err != nil || st.Size() == 0 {
		t.Fatalf("the live -wal is empty (%v): nothing to prove", err)
	}
	cp, err := b.CopyFiles(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if _, err := os.Stat(filepath.Join(cp.Dir(), "d.sqlite-wal")); err != nil {
		t.Fatalf("the copy has no -wal: %v", err)
	}
	if err := cp.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	// The database file alone, moved elsewhere, is the data.
	alone := filepath.Join(t.TempDir(), "alone")
	os.Mkdir(alone, 0o700)
	ents, _ := os.ReadDir(cp.Dir())
	for _, e := range ents {
		if e.Name() != "d.sqlite" {
			t.Errorf("after Settle the copy holds %s", e.Name())
			continue
		}
		raw, err := os.ReadFile(filepath.Join(cp.Dir(), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(alone, e.Name()), raw, 0o600)
	}
	opened, err := m.OpenFiles(alone)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	assertOnly(t, connect(t, opened), "old")
}
