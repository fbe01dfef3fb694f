package dbauth

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongocmd"
)

// The built-in roles flexd serves (service validates them: atlasAdmin and
// the *AnyDatabase roles exist on admin only; read and readWrite may name
// a collection).
const (
	RoleAtlasAdmin           = "atlasAdmin"
	RoleReadWriteAnyDatabase = "readWriteAnyDatabase"
	RoleReadAnyDatabase      = "readAnyDatabase"
	RoleReadWrite            = "readWrite"
	RoleRead                 = "read"
	RoleDBAdmin              = "dbAdmin"
)

// The actions of MongoDB's built-in roles, from its "Built-In Roles"
// reference, limited to the actions of commands flexd serves.
const (
	readActions = mongocmd.Find | mongocmd.ListCollections | mongocmd.ListIndexes |
		mongocmd.CollStats | mongocmd.DBStats | mongocmd.KillCursors
	readWriteActions = readActions | mongocmd.Insert | mongocmd.Update | mongocmd.Remove |
		mongocmd.CreateCollection | mongocmd.DropCollection | mongocmd.CreateIndex |
		mongocmd.DropIndex | mongocmd.RenameCollectionSameDB
	// dbAdmin administers a database's collections without reading or
	// writing their documents: no find, insert, update or remove. MongoDB
	// lets a user kill its own cursors (dbAdmin's listIndexes, say);
	// flexd, which does not know whose a cursor is, grants killCursors on
	// the database instead.
	dbAdminActions = mongocmd.KillCursors | mongocmd.ListCollections | mongocmd.ListIndexes | mongocmd.CollStats |
		mongocmd.DBStats | mongocmd.CollMod | mongocmd.Compact | mongocmd.CreateCollection |
		mongocmd.CreateIndex | mongocmd.DropCollection | mongocmd.DropDatabase |
		mongocmd.DropIndex | mongocmd.RenameCollectionSameDB | mongocmd.Validate
	// dbAdmin reads the profiler's collection.
	dbAdminProfileActions = mongocmd.Find | mongocmd.ListIndexes | mongocmd.CollStats |
		mongocmd.DBStats | mongocmd.KillCursors | mongocmd.CreateCollection | mongocmd.DropCollection
	// clusterMonitor's actions, which Atlas's atlasAdmin includes.
	clusterMonitorActions = mongocmd.ListDatabases | mongocmd.ServerStatus | mongocmd.InProg |
		mongocmd.GetLog | mongocmd.HostInfo | mongocmd.GetCmdLineOpts | mongocmd.GetParameter |
		mongocmd.CheckFreeMonitoringStatus | mongocmd.SetFreeMonitoring
)

// Authorize decides whether user u may run the command cmd (document body)
// on database db: nil, or MongoDB's refusal as it words it. u nil is a
// connection that has not authenticated: it may run the handshake and
// authentication commands only. A command flexd does not know is refused
// as MongoDB refuses a command it does not have.
//
// It is a pure function of u's roles and the command.
func Authorize(u *User, db, cmd string, body bson.Raw) error {
	r := mongocmd.Classify(db, cmd, body)
	switch r.Class {
	case mongocmd.Handshake, mongocmd.Auth:
		return nil
	case mongocmd.Unknown:
		return commandNotFound(cmd)
	}
	if u == nil {
		return &Error{Code: 13, CodeName: "Unauthorized", Message: "Command " + cmd + " requires authentication"}
	}
	if r.Overflow() {
		return notAuthorized(db, body)
	}
	for _, n := range r.Needs() {
		if u.granted(n)&n.Actions == n.Actions {
			continue
		}
		if r.FilterDatabases && n.Actions == mongocmd.ListDatabases {
			continue // listDatabases, filtered (RestrictListDatabases)
		}
		return notAuthorized(db, body)
	}
	return nil
}

// granted is what u's roles together grant of n's actions on n's resource.
func (u *User) granted(n mongocmd.Need) mongocmd.Action {
	var a mongocmd.Action
	for _, r := range u.Roles {
		a |= roleGrants(r, n)
	}
	return a
}

// roleGrants is what one role grants on n's resource. Built-in roles grant
// on a database's non-system collections; of the system collections,
// read and readWrite reach system.js and dbAdmin system.profile.
func roleGrants(r flexd.DatabaseUserRole, n mongocmd.Need) mongocmd.Action {
	if n.Scope == mongocmd.Cluster {
		switch r.RoleName {
		case RoleAtlasAdmin:
			return clusterMonitorActions
		case RoleReadWriteAnyDatabase, RoleReadAnyDatabase:
			return mongocmd.ListDatabases
		}
		return 0
	}
	system := n.Scope == mongocmd.Collection && strings.HasPrefix(n.Collection, "system.")
	switch r.RoleName {
	case RoleAtlasAdmin:
		return readWriteActions | dbAdminActions
	case RoleReadWriteAnyDatabase, RoleReadAnyDatabase:
		if n.DB == "local" || n.DB == "config" || system && n.Collection != "system.js" {
			return 0
		}
		if r.RoleName == RoleReadAnyDatabase {
			return readActions
		}
		return readWriteActions
	}
	if r.DatabaseName != n.DB {
		return 0
	}
	if r.CollectionName != "" && (n.Scope != mongocmd.Collection || n.Collection != r.CollectionName) {
		return 0
	}
	switch r.RoleName {
	case RoleRead, RoleReadWrite:
		if system && n.Collection != "system.js" {
			return 0
		}
		if r.RoleName == RoleRead {
			return readActions
		}
		return readWriteActions
	case RoleDBAdmin:
		if system {
			if n.Collection == "system.profile" {
				return dbAdminProfileActions
			}
			return 0
		}
		return dbAdminActions
	}
	return 0
}

// SeesAllDatabases reports whether u holds the cluster-wide listDatabases
// action: its listDatabases is not filtered.
func (u *User) SeesAllDatabases() bool {
	return u.granted(mongocmd.Need{Scope: mongocmd.Cluster, Actions: mongocmd.ListDatabases})&mongocmd.ListDatabases != 0
}

// Databases are the databases u has privileges on, each once, in the
// order of its roles: what its listDatabases shows when it does not see
// them all.
func (u *User) Databases() []string {
	var dbs []string
	for _, r := range u.Roles {
		if r.DatabaseName != "" && !contains(dbs, r.DatabaseName) {
			dbs = append(dbs, r.DatabaseName)
		}
	}
	return dbs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RestrictListDatabases rewrites a listDatabases command of user u so that
// it shows only the databases u has privileges on (MongoDB's
// authorizedDatabases), keeping the client's own filter. It returns nil
// when the command runs as it is: u sees every database.
func RestrictListDatabases(u *User, body bson.Raw) (bson.Raw, error) {
	if u == nil || u.SeesAllDatabases() {
		return nil, nil
	}
	var cmd bson.D
	if err := bson.Unmarshal(body, &cmd); err != nil {
		return nil, err
	}
	dbs := u.Databases()
	in := make(bson.A, len(dbs))
	for i, d := range dbs {
		in[i] = d
	}
	mine := bson.D{{Key: "name", Value: bson.D{{Key: "$in", Value: in}}}}
	found := false
	for i, e := range cmd {
		if e.Key == "filter" {
			cmd[i].Value = bson.D{{Key: "$and", Value: bson.A{e.Value, mine}}}
			found = true
		}
	}
	if !found {
		cmd = append(cmd, bson.E{Key: "filter", Value: mine})
	}
	return bson.Marshal(cmd)
}

// commandNotFound is MongoDB's answer to a command it does not have.
func commandNotFound(cmd string) *Error {
	return &Error{Code: 59, CodeName: "CommandNotFound", Message: "no such command: '" + cmd + "'"}
}

// notAuthorized is MongoDB's refusal of a command the user's roles do not
// allow, with the command document as mongod prints it.
func notAuthorized(db string, body bson.Raw) *Error {
	return &Error{Code: 13, CodeName: "Unauthorized",
		Message: "not authorized on " + db + " to execute command " + FormatCommand(body)}
}
