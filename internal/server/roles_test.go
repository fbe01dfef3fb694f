package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/flexd/flexd/dbauth/rolematrix"
)

// mustSucceed are the matrix's commands that succeed outright when allowed
// on freshly seeded data (the others may meet an error of the backend's,
// e.g. no cursor 7 for getMore, or FerretDB's distinct refusing the
// maxTimeMS a driver with a timeout adds: anything but 13 is "allowed").
var mustSucceed = []string{"find", "count", "aggregate", "listIndexes", "collStats", "listCollections",
	"dbStats", "insert", "update", "delete", "findAndModify", "createIndexes", "serverStatus", "listDatabases"}

// TestRoleMatrixThroughClusters checks dbauth/rolematrix through a real
// cluster with the Go driver: a user per built-in role runs each command
// on its own collection, another collection of its database and another
// database, and gets through, or gets 13 Unauthorized with mongod's words.
// Before the endpoints checked roles, every refusal here succeeded.
func TestRoleMatrixThroughClusters(t *testing.T) {
	a := &accessServer{t: t, s: start(t, t.TempDir(), map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_CLUSTER_PORTS": testClusterPorts()})}
	g := a.project("roles")
	uri := a.cluster(g, "roles1")
	const pw = "role-matrix-pw-1x"
	a.user(g, "root", pw, "") // readWriteAnyDatabase
	root := driverClient(t, uri, "root", pw, "")
	ctx := context.Background()
	seed := func() {
		t.Helper()
		for _, tg := range rolematrix.Targets {
			if _, err := root.Database(tg.DB).Collection(tg.Coll).InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
				t.Fatalf("seed %s.%s: %v", tg.DB, tg.Coll, err)
			}
		}
	}
	// Commands that change what later ones meet run last.
	commands := slices.Clone(rolematrix.Commands)
	slices.SortStableFunc(commands, func(x, y rolematrix.Command) int {
		switch {
		case x.Destructive == y.Destructive:
			return 0
		case y.Destructive:
			return -1
		}
		return 1
	})
	allowed, refused := 0, 0
	for i, role := range rolematrix.Roles {
		user := "u" + string(rune('a'+i))
		roles, _ := json.Marshal([]any{role.Role})
		a.must(201, "POST", "/api/atlas/v2/groups/"+g+"/databaseUsers", `{"databaseName":"admin","username":"`+user+
			`","password":"`+pw+`","roles":`+string(roles)+`}`)
		seed()
		c := driverClient(t, uri, user, pw, "")
		for _, cmd := range commands {
			for _, tg := range rolematrix.Targets {
				runOn := cmd.RunOn(tg)
				err := c.Database(runOn).RunCommand(ctx, cmd.Build(tg.DB, tg.Coll)).Err()
				var ce mongo.CommandError
				isCmdErr := errors.As(err, &ce)
				what := role.Key + ": " + cmd.Name + " on " + tg.DB + "." + tg.Coll
				if rolematrix.Allowed(role, cmd, tg) {
					allowed++
					switch {
					case err == nil:
					case !isCmdErr:
						t.Errorf("%s: %v (not a server's answer)", what, err)
					case ce.Code == 13:
						t.Errorf("%s refused: %v", what, err)
					case slices.Contains(mustSucceed, cmd.Name) && !cmd.Destructive:
						t.Errorf("%s: %v", what, err)
					}
					continue
				}
				refused++
				prefix := "not authorized on " + runOn + " to execute command { " + cmd.Build(tg.DB, tg.Coll)[0].Key + ": "
				if !isCmdErr || ce.Code != 13 || ce.Name != "Unauthorized" || !strings.HasPrefix(ce.Message, prefix) {
					t.Errorf("%s = %v, want 13 Unauthorized %q…", what, err, prefix)
				}
			}
		}
	}
	if allowed < 100 || refused < 100 {
		t.Fatalf("checked %d allowed and %d refused commands", allowed, refused)
	}

	// listDatabases of a user without a cluster-wide role lists the
	// databases its roles name (MongoDB's authorizedDatabases).
	reader := driverClient(t, uri, "u"+string(rune('a'+slices.IndexFunc(rolematrix.Roles, func(r rolematrix.Role) bool { return r.Key == "read" }))), pw, "")
	seed()
	names, err := reader.ListDatabaseNames(ctx, bson.D{})
	if err != nil || !slices.Equal(names, []string{"app"}) {
		t.Errorf("read@app's listDatabases = %v %v, want [app]", names, err)
	}
	all, err := root.ListDatabaseNames(ctx, bson.D{})
	if err != nil || !slices.Contains(all, "other") {
		t.Errorf("readWriteAnyDatabase's listDatabases = %v %v", all, err)
	}
}
