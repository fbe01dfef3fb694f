package dbauth_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dbauth"
	"github.com/flexd/flexd/dbauth/rolematrix"
)

func doc(kv ...any) bson.D {
	d := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return d
}

// TestAuthorizeRoleMatrix: every built-in role × a command of each kind ×
// the role's own collection, another of its database, another database →
// allowed, or 13 Unauthorized with mongod's message.
func TestAuthorizeRoleMatrix(t *testing.T) {
	allowedCount, refusedCount := 0, 0
	for _, role := range rolematrix.Roles {
		u := &dbauth.User{Username: "u", Roles: []flexd.DatabaseUserRole{role.Role}}
		for _, cc := range rolematrix.Commands {
			for _, tg := range rolematrix.Targets {
				cmd := cc.Build(tg.DB, tg.Coll)
				body, _ := bson.Marshal(cmd)
				runOn := cc.RunOn(tg)
				err := dbauth.Authorize(u, runOn, cmd[0].Key, body)
				if rolematrix.Allowed(role, cc, tg) {
					allowedCount++
					if err != nil {
						t.Errorf("%s: %s (%s) on %s.%s refused: %v", role.Key, cc.Name, cc.Kind, tg.DB, tg.Coll, err)
					}
					continue
				}
				refusedCount++
				var e *dbauth.Error
				if !errors.As(err, &e) || e.Code != 13 || e.CodeName != "Unauthorized" {
					t.Errorf("%s: %s (%s) on %s.%s = %v, want 13 Unauthorized", role.Key, cc.Name, cc.Kind, tg.DB, tg.Coll, err)
					continue
				}
				if wantMsg := "not authorized on " + runOn + " to execute command " + dbauth.FormatCommand(body); e.Message != wantMsg {
					t.Errorf("%s: %s message %q, want %q", role.Key, cc.Name, e.Message, wantMsg)
				}
			}
		}
	}
	if allowedCount < 100 || refusedCount < 100 {
		t.Fatalf("matrix checked %d allowed and %d refused cases", allowedCount, refusedCount)
	}
}

// A user's roles add up: read on one database and readWrite on one
// collection of another.
func TestAuthorizeUnionOfRoles(t *testing.T) {
	u := &dbauth.User{Roles: []flexd.DatabaseUserRole{
		{RoleName: "read", DatabaseName: "app"},
		{RoleName: "readWrite", DatabaseName: "logs", CollectionName: "events"},
	}}
	for _, c := range []struct {
		db   string
		cmd  bson.D
		want bool
	}{
		{"app", doc("find", "x"), true},
		{"app", doc("insert", "x"), false},
		{"logs", doc("insert", "events"), true},
		{"logs", doc("find", "other"), false},
		// $lookup reads a second collection: both must be readable.
		{"app", doc("aggregate", "x", "pipeline", bson.A{doc("$lookup", doc("from", "y", "as", "z"))}), true},
		{"logs", doc("aggregate", "events", "pipeline", bson.A{doc("$lookup", doc("from", "secret", "as", "z"))}), false},
		{"logs", doc("aggregate", "events", "pipeline", bson.A{doc("$unionWith", "secret")}), false},
		{"logs", doc("aggregate", "events", "pipeline", bson.A{doc("$facet", doc("a", bson.A{doc("$lookup", doc("from", "secret", "as", "z"))}))}), false},
		// $out into a database the user may only read.
		{"logs", doc("aggregate", "events", "pipeline", bson.A{doc("$out", doc("db", "app", "coll", "copy"))}), false},
		{"app", doc("aggregate", "x", "pipeline", bson.A{doc("$merge", doc("into", doc("db", "logs", "coll", "events")))}), true},
		// Explaining a write needs the write's privileges.
		{"app", doc("explain", doc("delete", "x")), false},
		{"logs", doc("explain", doc("delete", "events")), true},
		// Renaming across databases: find and drop on the source, insert
		// and create on the target.
		{"admin", doc("renameCollection", "app.x", "to", "logs.events"), false},
		// getMore on a cursor of a database-wide aggregate.
		{"app", doc("getMore", int64(1), "collection", "$cmd.aggregate"), true},
		{"logs", doc("getMore", int64(1), "collection", "$cmd.aggregate"), false},
		// listDatabases is filtered for a user without the cluster action.
		{"admin", doc("listDatabases", 1), true},
		{"admin", doc("listDatabases", 1, "authorizedDatabases", false), false},
		// System collections are not the database's collections.
		{"app", doc("find", "system.users"), false},
		{"app", doc("find", "system.js"), true},
		{"admin", doc("connectionStatus", 1), true},
	} {
		body, _ := bson.Marshal(c.cmd)
		err := dbauth.Authorize(u, c.db, c.cmd[0].Key, body)
		if got := err == nil; got != c.want {
			t.Errorf("%s %s: allowed %v (%v), want %v", c.db, dbauth.FormatCommand(body), got, err, c.want)
		}
	}
}

func TestAuthorizeBeforeAuthenticationAndUnknownCommands(t *testing.T) {
	for _, c := range []struct {
		cmd     string
		code    int
		message string
	}{
		{"hello", 0, ""},
		{"isMaster", 0, ""},
		{"ping", 0, ""},
		{"buildInfo", 0, ""},
		{"saslStart", 0, ""},
		{"find", 13, "Command find requires authentication"},
		{"listDatabases", 13, "Command listDatabases requires authentication"},
		{"connectionStatus", 13, "Command connectionStatus requires authentication"},
		{"frobnicate", 59, "no such command: 'frobnicate'"},
	} {
		body, _ := bson.Marshal(doc(c.cmd, 1))
		err := dbauth.Authorize(nil, "app", c.cmd, body)
		if c.code == 0 {
			if err != nil {
				t.Errorf("%s before authentication: %v", c.cmd, err)
			}
			continue
		}
		var e *dbauth.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Message != c.message {
			t.Errorf("%s before authentication = %v, want %d %q", c.cmd, err, c.code, c.message)
		}
	}
	// An authenticated user meets the same answer for a command nobody has.
	u := &dbauth.User{Roles: []flexd.DatabaseUserRole{{RoleName: "atlasAdmin", DatabaseName: "admin"}}}
	body, _ := bson.Marshal(doc("shutdown", 1))
	var e *dbauth.Error
	if err := dbauth.Authorize(u, "admin", "shutdown", body); !errors.As(err, &e) || e.Code != 59 {
		t.Errorf("shutdown = %v, want 59 CommandNotFound", err)
	}
}

func TestFormatCommandAsMongodPrintsIt(t *testing.T) {
	id := bson.Binary{Subtype: 4, Data: []byte{0x8b, 0x1a, 0x95, 0x3e, 0x1c, 0x44, 0x4f, 0x3a, 0x9a, 0x77, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}}
	oid, _ := bson.ObjectIDFromHex("65a1b2c3d4e5f60718293a4b")
	body, _ := bson.Marshal(doc(
		"find", "c",
		"filter", doc("a", 1, "b", int64(2), "c", 1.0, "d", 2.5, "e", true, "f", nil, "g", bson.A{}, "h", bson.D{}, "i", bson.A{1, "x"}),
		"o", oid, "t", bson.DateTime(1700000000000), "ts", bson.Timestamp{T: 5, I: 1}, "re", bson.Regex{Pattern: "^a", Options: "i"},
		"bin", bson.Binary{Subtype: 0, Data: []byte{0xab, 0x01}}, "big", 1e20, "nan", math.NaN(),
		"lsid", doc("id", id), "$db", "app",
	))
	want := `{ find: "c", filter: { a: 1, b: 2, c: 1.0, d: 2.5, e: true, f: null, g: [], h: {}, i: [ 1, "x" ] }, ` +
		`o: ObjectId('65a1b2c3d4e5f60718293a4b'), t: new Date(1700000000000), ts: Timestamp(5, 1), re: /^a/i, ` +
		`bin: BinData(0, AB01), big: 1e+20, nan: nan, lsid: { id: UUID("8b1a953e-1c44-4f3a-9a77-010203040506") }, $db: "app" }`
	if got := dbauth.FormatCommand(body); got != want {
		t.Errorf("FormatCommand:\n got %s\nwant %s", got, want)
	}
	// mongod never echoes a password back.
	body, _ = bson.Marshal(doc("createUser", "u", "pwd", "s3cret", "roles", bson.A{}))
	if got := dbauth.FormatCommand(body); strings.Contains(got, "s3cret") || got != `{ createUser: "u", pwd: "xxx", roles: [] }` {
		t.Errorf("FormatCommand(createUser) = %s", got)
	}
	long := strings.Repeat("x", 200)
	body, _ = bson.Marshal(doc("find", long))
	if got, want := dbauth.FormatCommand(body), fmt.Sprintf(`{ find: "%s..." }`, long[:150]); got != want {
		t.Errorf("long string: %s", got)
	}
}

func TestRestrictListDatabases(t *testing.T) {
	u := &dbauth.User{Roles: []flexd.DatabaseUserRole{
		{RoleName: "read", DatabaseName: "app"}, {RoleName: "dbAdmin", DatabaseName: "logs"}, {RoleName: "readWrite", DatabaseName: "app", CollectionName: "c"},
	}}
	body, _ := bson.Marshal(doc("listDatabases", 1, "filter", doc("name", doc("$regex", "^a")), "$db", "admin"))
	got, err := dbauth.RestrictListDatabases(u, body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{ listDatabases: 1, filter: { $and: [ { name: { $regex: "^a" } }, { name: { $in: [ "app", "logs" ] } } ] }, $db: "admin" }`
	if dbauth.FormatCommand(got) != want {
		t.Errorf("restricted: %s\nwant %s", dbauth.FormatCommand(got), want)
	}
	admin := &dbauth.User{Roles: []flexd.DatabaseUserRole{{RoleName: "readAnyDatabase", DatabaseName: "admin"}}}
	if got, err := dbauth.RestrictListDatabases(admin, body); got != nil || err != nil {
		t.Errorf("readAnyDatabase's listDatabases rewritten: %v %v", got, err)
	}
}

// BenchmarkAuthorize is the per-command cost of authorization: a driver's
// find (with lsid and $db, as sent) by a readWrite user with three roles,
// and an aggregate with a $lookup.
func BenchmarkAuthorize(b *testing.B) {
	u := &dbauth.User{Roles: []flexd.DatabaseUserRole{
		{RoleName: "read", DatabaseName: "logs"}, {RoleName: "dbAdmin", DatabaseName: "app"}, {RoleName: "readWrite", DatabaseName: "app"},
	}}
	id := bson.Binary{Subtype: 4, Data: make([]byte, 16)}
	for name, cmd := range map[string]bson.D{
		"find": doc("find", "c", "filter", doc("_id", "id42"), "limit", int64(1), "singleBatch", true, "lsid", doc("id", id), "$db", "app"),
		"aggregate": doc("aggregate", "c", "pipeline", bson.A{doc("$match", doc("a", 1)), doc("$lookup", doc("from", "d", "localField", "a", "foreignField", "b", "as", "j"))},
			"cursor", doc(), "lsid", doc("id", id), "$db", "app"),
	} {
		body, _ := bson.Marshal(cmd)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := dbauth.Authorize(u, "app", cmd[0].Key, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
