package mongowire_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/ferret"
	"github.com/flexd/flexd/mongowire"
)

type env struct {
	front   *mongowire.Front
	backend *ferret.Backend
	client  *mongo.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m, err := ferret.New(ferret.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b, err := m.Backend("c1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := mongowire.Serve(ln, b, mongowire.Options{Name: "c1"})
	t.Cleanup(func() { f.Close() })
	return &env{front: f, backend: b, client: dial(t, f.Addr().String())}
}

func dial(t *testing.T, addr string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr + "/?directConnection=true&serverSelectionTimeoutMS=5000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func code(err error) int {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	var we mongo.WriteException
	if errors.As(err, &we) && len(we.WriteErrors) > 0 {
		return we.WriteErrors[0].Code
	}
	return -1
}

func TestCRUDThroughTheFront(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	coll := e.client.Database("app").Collection("users")
	if _, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: "B"}}}}); err != nil {
		t.Fatal(err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 2}}).Decode(&got); err != nil || got["n"] != "B" {
		t.Fatalf("FindOne = %v %v", got, err)
	}
	if err := e.client.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestIndexOptionsMongorestoreSendsAreStripped(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.client.Database("app")
	db.Collection("c").InsertOne(ctx, bson.D{{Key: "a", Value: 1}})
	// What mongorestore sends for a dump's metadata (ns from old dumps, v with --keepIndexVersion).
	res := db.RunCommand(ctx, bson.D{
		{Key: "createIndexes", Value: "c"},
		{Key: "indexes", Value: bson.A{bson.D{{Key: "v", Value: 2}, {Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "a_1"}, {Key: "ns", Value: "app.c"}, {Key: "unique", Value: true}}}},
	})
	if err := res.Err(); err != nil {
		t.Fatalf("createIndexes with ns and v: %v", err)
	}
	specs, err := db.Collection("c").Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range specs {
		names = append(names, s.Name)
		if s.Name == "a_1" && (s.Unique == nil || !*s.Unique) {
			t.Errorf("a_1 lost its unique option: %+v", s)
		}
	}
	if !slices.Contains(names, "a_1") {
		t.Fatalf("indexes = %v, want a_1", names)
	}
}

func TestUnsupportedAnswersAnErrorAndKeepsTheConnection(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	db := e.client.Database("app")
	dec, _ := bson.ParseDecimal128("1.5")
	cases := map[string]func() error{
		"decimal128": func() error {
			_, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "d", Value: dec}})
			return err
		},
		"nested minkey": func() error {
			_, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: bson.D{{Key: "y", Value: bson.A{bson.MinKey{}}}}}})
			return err
		},
		"change stream": func() error {
			_, err := db.Collection("c").Watch(ctx, mongo.Pipeline{})
			return err
		},
		"transaction": func() error {
			sess, err := e.client.StartSession()
			if err != nil {
				return err
			}
			defer sess.EndSession(ctx)
			_, err = sess.WithTransaction(ctx, func(sc context.Context) (any, error) {
				return db.Collection("c").InsertOne(sc, bson.D{{Key: "t", Value: 1}})
			})
			return err
		},
		"text index": func() error {
			_, err := db.Collection("c").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "s", Value: "text"}}})
			return err
		},
		// FerretDB's test hook would panic inside the embedded FerretDB.
		"debugError": func() error {
			return db.RunCommand(ctx, bson.D{{Key: "debugError", Value: "panic"}}).Err()
		},
		"unknown command": func() error {
			return db.RunCommand(ctx, bson.D{{Key: "noSuchCommand", Value: 1}}).Err()
		},
	}
	for name, run := range cases {
		err := run()
		if err == nil {
			t.Errorf("%s: succeeded", name)
			continue
		}
		var ce mongo.CommandError
		var we mongo.WriteException
		if !errors.As(err, &ce) && !errors.As(err, &we) {
			t.Errorf("%s: error %v (%T) is not a MongoDB server error", name, err, err)
		}
		t.Logf("%s: %v", name, err)
		if name == "debugError" && code(err) != 238 {
			t.Errorf("debugError reached FerretDB: %v", err)
		}
		if err := e.client.Ping(ctx, nil); err != nil {
			t.Fatalf("after %s the connection is unusable: %v", name, err)
		}
	}
	n, err := db.Collection("c").CountDocuments(ctx, bson.D{})
	if err != nil || n != 0 {
		t.Fatalf("count = %d %v: an unsupported write got through", n, err)
	}
}

func TestFenceRefusesWritesReadsGoOn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	coll := e.client.Database("app").Collection("c")
	coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	e.front.Fence("a restore is running")
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	if code(err) != 20 {
		t.Fatalf("insert while fenced: %v, want code 20", err)
	}
	if _, err := coll.DeleteMany(ctx, bson.D{}); code(err) != 20 {
		t.Fatalf("delete while fenced: %v, want code 20", err)
	}
	if err := e.client.Database("app").Drop(ctx); code(err) != 20 {
		t.Fatalf("dropDatabase while fenced: %v, want code 20", err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("read while fenced = %d %v, want 1", n, err)
	}
	e.front.Unfence()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatalf("insert after unfence: %v", err)
	}
}

func TestPauseWritesHoldsWritesNotReads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	coll := e.client.Database("app").Collection("c")
	coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 0}})
	resume, err := e.front.PauseWrites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
		done <- err
	}()
	for e.front.Held() == 0 {
		time.Sleep(time.Millisecond) // polling for the write to reach the gate
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("read while paused = %d %v, want 1 (the held write not applied)", n, err)
	}
	select {
	case err := <-done:
		t.Fatalf("write finished while paused: %v", err)
	default:
	}
	resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := coll.CountDocuments(ctx, bson.D{}); n != 2 {
		t.Fatalf("after resume count = %d, want 2", n)
	}
}

func TestQuiesceAcrossADataSwap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	coll := e.client.Database("app").Collection("c")
	coll.InsertOne(ctx, bson.D{{Key: "v", Value: "old"}})
	s, err := e.backend.Stage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := mongo.Connect(options.Client().ApplyURI("mongodb://staging.invalid/?directConnection=true").SetDialer(s))
	sc.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "v", Value: "new"}})
	sc.Disconnect(ctx)
	resume, err := e.front.Quiesce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	resume()
	// The same client, on its pooled connections, now reads the new data.
	for i := 0; i < 3; i++ {
		var got bson.M
		if err := coll.FindOne(ctx, bson.D{}).Decode(&got); err != nil || got["v"] != "new" {
			t.Fatalf("after swap FindOne = %v %v, want v=new", got, err)
		}
	}
}

func TestPortsKeepPreferredAndSkipTaken(t *testing.T) {
	base := freeBlock(t, 4)
	r := mongowire.PortRange{First: base, Last: base + 3}
	other, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base)) // another process's port
	if err != nil {
		t.Skip("port raced away")
	}
	defer other.Close()
	p := mongowire.NewPorts("127.0.0.1", r)
	ln1, port1, err := p.Listen(0)
	if err != nil || port1 == base {
		t.Fatalf("Listen = %d %v, want a port other than the taken %d", port1, err, base)
	}
	ln2, port2, err := p.Listen(base + 3)
	if err != nil || port2 != base+3 {
		t.Fatalf("Listen(preferred %d) = %d %v", base+3, port2, err)
	}
	ln2.Close()
	p.Release(port2)
	ln2, port2again, err := p.Listen(base + 3)
	if err != nil || port2again != base+3 {
		t.Fatalf("a restarted cluster did not get its port back: %d %v", port2again, err)
	}
	p.Reserve(base + 2) // a cluster that will start later stored this one
	if _, _, err := p.Listen(0); !errors.Is(err, mongowire.ErrNoPort) {
		t.Fatalf("Listen(0) took a reserved port: %v", err)
	}
	ln3, port3, err := p.Listen(base + 2)
	if err != nil || port3 != base+2 {
		t.Fatalf("Listen(reserved %d) = %d %v", base+2, port3, err)
	}
	if _, _, err := p.Listen(0); !errors.Is(err, mongowire.ErrNoPort) {
		t.Fatalf("Listen on a full range: %v, want ErrNoPort", err)
	}
	ln1.Close()
	ln2.Close()
	ln3.Close()
	if _, err := mongowire.ParsePortRange("27999-27100"); err == nil {
		t.Fatal("reversed range accepted")
	}
	if r, err := mongowire.ParsePortRange("27100-27999"); err != nil || r != (mongowire.PortRange{First: 27100, Last: 27999}) {
		t.Fatalf("ParsePortRange = %v %v", r, err)
	}
}

// freeBlock finds n consecutive free ports below the ephemeral range, where
// outgoing connections of other processes do not take them meanwhile.
func freeBlock(t *testing.T, n int) int {
	t.Helper()
	for attempt := 0; attempt < 100; attempt++ {
		base := 20000 + rand.IntN(12000)
		free := true
		for p := base; p < base+n && free; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Skip("no block of free ports found")
	return 0
}
