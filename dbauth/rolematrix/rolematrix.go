// Package rolematrix is the role matrix of flexd's database users: every
// built-in role flexd serves, a command of each kind (read, write,
// database administration, cluster, user management), three targets (the
// role's own collection, another collection of its database, another
// database) and whether MongoDB's built-in roles allow each. dbauth's unit
// tests check Authorize against it, and the server's tests check real
// clusters through the Go driver against the same matrix.
package rolematrix

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
)

// Role is a user holding one built-in role: the database roles on "app",
// the collection-scoped ones on "app.c", the cluster-wide ones on admin.
type Role struct {
	Key  string
	Role flexd.DatabaseUserRole
}

// Roles are every built-in role flexd serves.
var Roles = []Role{
	{"atlasAdmin", flexd.DatabaseUserRole{RoleName: "atlasAdmin", DatabaseName: "admin"}},
	{"readWriteAnyDatabase", flexd.DatabaseUserRole{RoleName: "readWriteAnyDatabase", DatabaseName: "admin"}},
	{"readAnyDatabase", flexd.DatabaseUserRole{RoleName: "readAnyDatabase", DatabaseName: "admin"}},
	{"readWrite", flexd.DatabaseUserRole{RoleName: "readWrite", DatabaseName: "app"}},
	{"read", flexd.DatabaseUserRole{RoleName: "read", DatabaseName: "app"}},
	{"dbAdmin", flexd.DatabaseUserRole{RoleName: "dbAdmin", DatabaseName: "app"}},
	{"readWrite@app.c", flexd.DatabaseUserRole{RoleName: "readWrite", DatabaseName: "app", CollectionName: "c"}},
	{"read@app.c", flexd.DatabaseUserRole{RoleName: "read", DatabaseName: "app", CollectionName: "c"}},
}

// Target is where a command runs: a database and a collection.
type Target struct{ DB, Coll string }

// Targets are the role's own collection, another collection of its
// database, and another database.
var Targets = []Target{{"app", "c"}, {"app", "d"}, {"other", "c"}}

// Command is one command of the matrix, built for a target, and the roles
// that allow it on their own database (and collection).
type Command struct {
	Name    string
	Kind    string // read, write, dbAdmin, cluster, users
	Cluster bool   // the database it runs on does not matter
	OnAdmin bool   // runs on admin, naming db.coll (renameCollection)
	// Destructive commands change what later commands meet: run them last.
	Destructive bool
	Build       func(db, coll string) bson.D
	Allowed     []string
}

// RunOn is the database the command is sent to for target t.
func (c Command) RunOn(t Target) string {
	if c.OnAdmin {
		return "admin"
	}
	return t.DB
}

var (
	anyRead  = []string{"atlasAdmin", "readWriteAnyDatabase", "readAnyDatabase", "readWrite", "read", "readWrite@app.c", "read@app.c"}
	anyWrite = []string{"atlasAdmin", "readWriteAnyDatabase", "readWrite", "readWrite@app.c"}
	dbWide   = []string{"atlasAdmin", "readWriteAnyDatabase", "readAnyDatabase", "readWrite", "read"}
)

func with(list []string, more ...string) []string { return append(slices.Clone(list), more...) }

func doc(kv ...any) bson.D {
	d := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return d
}

// Commands follow MongoDB's built-in roles: read and readWrite reach
// documents, dbAdmin administers collections without reading them, and
// the database-wide actions (listCollections, dbStats, renaming, dropping
// the database) are not granted by a collection-scoped role.
var Commands = []Command{
	{Name: "find", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("find", c, "filter", doc("a", 1)) }},
	{Name: "count", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("count", c) }},
	{Name: "distinct", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("distinct", c, "key", "a") }},
	{Name: "aggregate", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D {
		return doc("aggregate", c, "pipeline", bson.A{doc("$match", doc("a", 1))}, "cursor", doc())
	}},
	{Name: "getMore", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("getMore", int64(7), "collection", c) }},
	{Name: "killCursors", Kind: "read", Allowed: with(anyRead, "dbAdmin"), Build: func(db, c string) bson.D { return doc("killCursors", c, "cursors", bson.A{int64(7)}) }},
	{Name: "listIndexes", Kind: "read", Allowed: with(anyRead, "dbAdmin"), Build: func(db, c string) bson.D { return doc("listIndexes", c) }},
	{Name: "collStats", Kind: "read", Allowed: with(anyRead, "dbAdmin"), Build: func(db, c string) bson.D { return doc("collStats", c) }},
	{Name: "dataSize", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("dataSize", db+"."+c) }},
	{Name: "explain", Kind: "read", Allowed: anyRead, Build: func(db, c string) bson.D { return doc("explain", doc("find", c)) }},
	{Name: "listCollections", Kind: "read", Allowed: with(dbWide, "dbAdmin"), Build: func(db, c string) bson.D { return doc("listCollections", 1) }},
	{Name: "dbStats", Kind: "read", Allowed: with(dbWide, "dbAdmin"), Build: func(db, c string) bson.D { return doc("dbStats", 1) }},

	{Name: "insert", Kind: "write", Allowed: anyWrite, Build: func(db, c string) bson.D { return doc("insert", c, "documents", bson.A{doc("a", 1)}) }},
	{Name: "update", Kind: "write", Allowed: anyWrite, Build: func(db, c string) bson.D {
		return doc("update", c, "updates", bson.A{doc("q", doc("a", 1), "u", doc("$set", doc("b", 2)))})
	}},
	{Name: "delete", Kind: "write", Allowed: anyWrite, Build: func(db, c string) bson.D {
		return doc("delete", c, "deletes", bson.A{doc("q", doc("a", 99), "limit", 0)})
	}},
	{Name: "findAndModify", Kind: "write", Allowed: anyWrite, Build: func(db, c string) bson.D {
		return doc("findAndModify", c, "query", doc("a", 1), "update", doc("$set", doc("b", 3)), "upsert", true)
	}},
	{Name: "createIndexes", Kind: "write", Allowed: with(anyWrite, "dbAdmin"), Build: func(db, c string) bson.D {
		return doc("createIndexes", c, "indexes", bson.A{doc("key", doc("b", 1), "name", "b_1")})
	}},
	{Name: "aggregate $out", Kind: "write", Allowed: anyWrite, Build: func(db, c string) bson.D {
		return doc("aggregate", c, "pipeline", bson.A{doc("$match", doc("a", 1)), doc("$out", c)}, "cursor", doc())
	}},
	{Name: "create", Kind: "write", Allowed: with(anyWrite, "dbAdmin"), Destructive: true, Build: func(db, c string) bson.D { return doc("create", c) }},
	{Name: "dropIndexes", Kind: "write", Allowed: with(anyWrite, "dbAdmin"), Destructive: true, Build: func(db, c string) bson.D { return doc("dropIndexes", c, "index", "*") }},
	{Name: "renameCollection", Kind: "write", OnAdmin: true, Destructive: true, Allowed: []string{"atlasAdmin", "readWriteAnyDatabase", "readWrite", "dbAdmin"},
		Build: func(db, c string) bson.D { return doc("renameCollection", db+"."+c, "to", db+"."+c+"_renamed") }},
	{Name: "drop", Kind: "write", Allowed: with(anyWrite, "dbAdmin"), Destructive: true, Build: func(db, c string) bson.D { return doc("drop", c) }},

	{Name: "collMod", Kind: "dbAdmin", Allowed: []string{"atlasAdmin", "dbAdmin"}, Build: func(db, c string) bson.D { return doc("collMod", c) }},
	{Name: "validate", Kind: "dbAdmin", Allowed: []string{"atlasAdmin", "dbAdmin"}, Build: func(db, c string) bson.D { return doc("validate", c) }},
	{Name: "compact", Kind: "dbAdmin", Allowed: []string{"atlasAdmin", "dbAdmin"}, Build: func(db, c string) bson.D { return doc("compact", c) }},
	{Name: "dropDatabase", Kind: "dbAdmin", Allowed: []string{"atlasAdmin", "dbAdmin"}, Destructive: true, Build: func(db, c string) bson.D { return doc("dropDatabase", 1) }},

	{Name: "listDatabases", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin", "readWriteAnyDatabase", "readAnyDatabase"},
		Build: func(db, c string) bson.D { return doc("listDatabases", 1, "authorizedDatabases", false) }},
	{Name: "serverStatus", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("serverStatus", 1) }},
	{Name: "currentOp", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("currentOp", 1) }},
	{Name: "getLog", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("getLog", "startupWarnings") }},
	{Name: "hostInfo", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("hostInfo", 1) }},
	{Name: "getCmdLineOpts", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("getCmdLineOpts", 1) }},
	{Name: "getParameter", Kind: "cluster", Cluster: true, Allowed: []string{"atlasAdmin"}, Build: func(db, c string) bson.D { return doc("getParameter", "*") }},

	// Atlas manages users through its API: nobody creates one by command.
	{Name: "createUser", Kind: "users", Build: func(db, c string) bson.D { return doc("createUser", "u", "pwd", "secret-pwd", "roles", bson.A{}) }},
	{Name: "usersInfo", Kind: "users", Build: func(db, c string) bson.D { return doc("usersInfo", 1) }},
}

// Allowed is the matrix's rule: a role allows a command where the command
// says so, on the role's own resource; the *AnyDatabase roles and
// atlasAdmin everywhere.
func Allowed(r Role, c Command, t Target) bool {
	if !slices.Contains(c.Allowed, r.Key) {
		return false
	}
	if c.Cluster || r.Role.DatabaseName == "admin" {
		return true
	}
	if t.DB != r.Role.DatabaseName {
		return false
	}
	return r.Role.CollectionName == "" || t.Coll == r.Role.CollectionName
}
