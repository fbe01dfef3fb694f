package mongocmd_test

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/ferret"
	"github.com/flexd/flexd/mongocmd"
)

// TestEveryFerretDBCommandIsInTheTable asks the embedded FerretDB for the
// commands it serves: a command missing from the table would be refused
// by authorization as unknown and counted as a write by the wire front,
// so a FerretDB upgrade that adds one fails here first.
func TestEveryFerretDBCommandIsInTheTable(t *testing.T) {
	m, err := ferret.New(ferret.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b, err := m.Backend("listcommands")
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://ferret.invalid/?directConnection=true").SetDialer(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	var res struct {
		Commands map[string]bson.Raw `bson:"commands"`
	}
	if err := c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "listCommands", Value: 1}}).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Commands) < 30 {
		t.Fatalf("FerretDB listed %d commands", len(res.Commands))
	}
	for name := range res.Commands {
		if !mongocmd.Known(name) {
			t.Errorf("FerretDB serves %q, which the command table does not have", name)
		}
	}
	// The commands FerretDB serves without listing them (old spellings,
	// the SASL conversation).
	for _, name := range []string{"buildinfo", "dbstats", "findandmodify", "ismaster", "saslStart", "saslContinue"} {
		if !mongocmd.Known(name) {
			t.Errorf("FerretDB's hidden command %q is not in the table", name)
		}
	}
}

func classify(db string, cmd bson.D) mongocmd.Request {
	body, _ := bson.Marshal(cmd)
	return mongocmd.Classify(db, cmd[0].Key, body)
}

// TestWritesAreWhatChangesData: the pause and the fence hold exactly the
// commands that change data; an unknown command counts as one.
func TestWritesAreWhatChangesData(t *testing.T) {
	reads := []string{"find", "count", "distinct", "getMore", "killCursors", "listIndexes", "listCollections",
		"collStats", "dataSize", "dbStats", "listDatabases", "validate", "hello", "isMaster", "ping", "buildInfo",
		"saslStart", "saslContinue", "logout", "connectionStatus", "whatsmyuri", "listCommands", "endSessions",
		"serverStatus", "currentOp", "getLog", "hostInfo", "getCmdLineOpts", "getParameter", "getFreeMonitoringStatus", "usersInfo"}
	writes := []string{"insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop", "createIndexes",
		"dropIndexes", "renameCollection", "collMod", "compact", "dropDatabase", "setFreeMonitoring", "createUser",
		"abortTransaction", "commitTransaction", "no-such-command"}
	for _, name := range reads {
		if r := classify("app", bson.D{{Key: name, Value: "c"}}); r.Writes {
			t.Errorf("%s counts as a write", name)
		}
	}
	for _, name := range writes {
		if r := classify("app", bson.D{{Key: name, Value: "c"}}); !r.Writes {
			t.Errorf("%s does not count as a write", name)
		}
	}
	agg := func(stage string, arg any) bson.D {
		return bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: stage, Value: arg}}}}}
	}
	if classify("app", agg("$match", bson.D{})).Writes {
		t.Error("an aggregate without output stage counts as a write")
	}
	for _, stage := range []string{"$out", "$merge"} {
		if !classify("app", agg(stage, "x")).Writes {
			t.Errorf("an aggregate with %s does not count as a write", stage)
		}
	}
	if classify("app", bson.D{{Key: "explain", Value: bson.D{{Key: "delete", Value: "c"}}}}).Writes {
		t.Error("explain counts as a write")
	}
}

func TestNeedsNameWhatTheCommandTouches(t *testing.T) {
	for _, c := range []struct {
		db    string
		cmd   bson.D
		needs []mongocmd.Need
	}{
		{"app", bson.D{{Key: "find", Value: "c"}}, []mongocmd.Need{{Scope: mongocmd.Collection, DB: "app", Collection: "c", Actions: mongocmd.Find}}},
		{"app", bson.D{{Key: "dataSize", Value: "logs.events"}}, []mongocmd.Need{{Scope: mongocmd.Collection, DB: "logs", Collection: "events", Actions: mongocmd.Find}}},
		{"app", bson.D{{Key: "findAndModify", Value: "c"}, {Key: "remove", Value: true}}, []mongocmd.Need{{Scope: mongocmd.Collection, DB: "app", Collection: "c", Actions: mongocmd.Find | mongocmd.Remove}}},
		{"app", bson.D{{Key: "findAndModify", Value: "c"}, {Key: "upsert", Value: 1}}, []mongocmd.Need{{Scope: mongocmd.Collection, DB: "app", Collection: "c", Actions: mongocmd.Find | mongocmd.Update | mongocmd.Insert}}},
		{"admin", bson.D{{Key: "renameCollection", Value: "app.a"}, {Key: "to", Value: "app.b"}, {Key: "dropTarget", Value: true}},
			[]mongocmd.Need{{Scope: mongocmd.Database, DB: "app", Actions: mongocmd.RenameCollectionSameDB | mongocmd.DropCollection}}},
		{"admin", bson.D{{Key: "renameCollection", Value: "app.a"}, {Key: "to", Value: "logs.b"}}, []mongocmd.Need{
			{Scope: mongocmd.Collection, DB: "app", Collection: "a", Actions: mongocmd.Find | mongocmd.DropCollection},
			{Scope: mongocmd.Collection, DB: "logs", Collection: "b", Actions: mongocmd.Insert | mongocmd.CreateCollection | mongocmd.CreateIndex}}},
		{"app", bson.D{{Key: "aggregate", Value: 1}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$documents", Value: bson.A{}}}}}},
			[]mongocmd.Need{{Scope: mongocmd.Database, DB: "app", Actions: mongocmd.Find}}},
		{"app", bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "l"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: "u"}}}}}}}}},
			bson.D{{Key: "$merge", Value: bson.D{{Key: "into", Value: bson.D{{Key: "db", Value: "out"}, {Key: "coll", Value: "m"}}}}}},
		}}}, []mongocmd.Need{
			{Scope: mongocmd.Collection, DB: "app", Collection: "c", Actions: mongocmd.Find},
			{Scope: mongocmd.Collection, DB: "app", Collection: "l", Actions: mongocmd.Find},
			{Scope: mongocmd.Collection, DB: "app", Collection: "u", Actions: mongocmd.Find},
			{Scope: mongocmd.Collection, DB: "out", Collection: "m", Actions: mongocmd.Insert | mongocmd.Remove | mongocmd.Update}}},
		{"app", bson.D{{Key: "serverStatus", Value: 1}}, []mongocmd.Need{{Scope: mongocmd.Cluster, Actions: mongocmd.ServerStatus}}},
		{"app", bson.D{{Key: "connectionStatus", Value: 1}}, nil},
	} {
		r := classify(c.db, c.cmd)
		if got := r.Needs(); !slices.Equal(got, c.needs) {
			t.Errorf("%v: needs %+v, want %+v", c.cmd, got, c.needs)
		}
	}
}

// A pipeline naming more namespaces than the table checks is refused
// whole (Overflow), not checked in part.
func TestTooManyNamespacesOverflow(t *testing.T) {
	var stages bson.A
	for i := range 20 {
		stages = append(stages, bson.D{{Key: "$unionWith", Value: string(rune('a' + i))}})
	}
	r := classify("app", bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: stages}})
	if !r.Overflow() {
		t.Fatal("20 namespaces did not overflow")
	}
}

func TestUnsupported(t *testing.T) {
	for _, c := range []struct {
		cmd  bson.D
		want string
	}{
		{bson.D{{Key: "mapReduce", Value: "c"}}, "mapReduce is not supported"},
		{bson.D{{Key: "debugError", Value: "panic"}}, "debugError is FerretDB's test command"},
		{bson.D{{Key: "find", Value: "c"}, {Key: "startTransaction", Value: true}}, "transactions are not supported"},
		{bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$changeStream", Value: bson.D{}}}}}}, "change streams are not supported"},
		{bson.D{{Key: "createIndexes", Value: "c"}, {Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: "t", Value: "text"}}}}}}}, `"text" indexes are not supported`},
		{bson.D{{Key: "explain", Value: bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$changeStream", Value: bson.D{}}}}}}}}, "change streams are not supported"},
		{bson.D{{Key: "find", Value: "c"}}, ""},
	} {
		if got := classify("app", c.cmd).Unsupported; got != c.want {
			t.Errorf("%v: unsupported %q, want %q", c.cmd, got, c.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, d := range []bson.D{
		{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}}}}}}},
		{{Key: "explain", Value: bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: "c"}}}}}},
		{{Key: "renameCollection", Value: "a.b"}, {Key: "to", Value: "c.d"}},
	} {
		b, _ := bson.Marshal(d)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body := bson.Raw(b)
		r := mongocmd.Classify("app", mongocmd.Name(body), body) // must not panic
		_ = r.Needs()
	})
}
