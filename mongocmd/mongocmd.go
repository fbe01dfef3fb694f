// Package mongocmd is flexd's one table of the MongoDB commands its clusters
// answer: for each command, the privilege actions it needs and on what (a
// collection, a database, the cluster), whether it changes data, and why
// flexd refuses it when FerretDB v1.24 cannot serve it.
//
// The wire front pauses and fences the commands this table calls writes;
// dbauth authorizes a user's command from the same answer; so a command
// cannot count as a read for one and a write for the other. A command
// missing from the table is unknown: the front treats it as a write, and
// authorization answers it like MongoDB answers a command it does not
// have (59 CommandNotFound). A test asks an embedded FerretDB for every
// command it serves (listCommands) and fails when one is missing here.
//
// The package knows MongoDB commands, not the wire protocol: it reads
// command documents (bson.Raw), never messages.
package mongocmd

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Class is how a command is treated before any privilege is checked.
type Class uint8

const (
	// Unknown is a command the table does not have.
	Unknown Class = iota
	// Handshake commands run before authentication (hello, ping, …).
	Handshake
	// Auth commands are the authentication conversation itself (saslStart,
	// saslContinue, authenticate, logout).
	Auth
	// Command is every other command: it needs an authenticated user, and
	// the privileges its Needs list.
	Command
)

// Action is a MongoDB privilege action (docs: "Privilege Actions"), one
// bit each, so that a role's grant is a mask.
type Action uint64

// The privilege actions flexd's commands need.
const (
	Find Action = 1 << iota
	Insert
	Update
	Remove
	CreateCollection
	DropCollection
	CreateIndex
	DropIndex
	RenameCollectionSameDB
	ListCollections
	ListIndexes
	CollStats
	DBStats
	KillCursors
	CollMod
	Compact
	Validate
	DropDatabase
	// Cluster actions.
	ListDatabases
	ServerStatus
	InProg
	GetLog
	HostInfo
	GetCmdLineOpts
	GetParameter
	CheckFreeMonitoringStatus
	SetFreeMonitoring
	// ManageUsers stands for MongoDB's user and role management actions
	// (createUser, grantRolesToUser, …). No role flexd serves grants it:
	// as in Atlas, database users are managed through the Admin API only.
	ManageUsers
)

// Scope is the kind of resource a Need names.
type Scope uint8

const (
	// Collection is one namespace, DB.Collection.
	Collection Scope = iota + 1
	// Database is every collection of DB (and the database itself).
	Database
	// Cluster is the deployment as a whole.
	Cluster
)

// Need is one privilege a command needs: every action of Actions on a
// resource.
type Need struct {
	Scope      Scope
	DB         string // for Collection and Database
	Collection string // for Collection
	Actions    Action
}

// maxNeeds bounds the needs of one command (aggregate with $out and
// lookups is the largest); more lookups than that are refused.
const maxNeeds = 8

// Request is what the table says about one command document.
type Request struct {
	Name  string
	Class Class
	// Writes reports a command that may change data: a write pause holds
	// it and a fence refuses it.
	Writes bool
	// Unsupported, when set, is why flexd answers the command with an
	// error instead of passing it on.
	Unsupported string
	// FilterDatabases marks listDatabases: a user without the cluster-wide
	// listDatabases action still runs it, seeing only the databases it has
	// privileges on (MongoDB's authorizedDatabases), unless the command
	// asks for authorizedDatabases: false.
	FilterDatabases bool

	needs [maxNeeds]Need
	n     int
	// tooMany is set when the command names more namespaces than
	// maxNeeds: it is refused rather than half checked.
	tooMany bool
}

// Needs are the privileges the command needs, all of them. A Command
// without needs is open to any authenticated user (connectionStatus,
// listCommands, …).
func (r *Request) Needs() []Need { return r.needs[:r.n] }

// Overflow reports a command naming more namespaces than the table checks;
// authorization refuses it.
func (r *Request) Overflow() bool { return r.tooMany }

func (r *Request) need(n Need) {
	if n.Actions == 0 {
		return
	}
	if r.n == maxNeeds {
		r.tooMany = true
		return
	}
	r.needs[r.n] = n
	r.n++
}

// spec is one row of the table.
type spec struct {
	class   Class
	scope   Scope
	actions Action
	writes  bool
	// unsupported is why flexd refuses the command outright.
	unsupported string
	// target, when set, finds what the command touches when it is not
	// "the collection its first value names": it fills r's needs itself.
	target targetKind
}

// targetKind names the commands whose needs depend on their document. An
// enum rather than a function in the row, so that a Request stays on the
// caller's stack (Classify runs on every request).
type targetKind uint8

const (
	tNone targetKind = iota
	tGetMore
	tDataSize
	tAggregate
	tListDatabases
	tFindAndModify
	tRename
	tExplain
)

// Known reports whether the table has the command.
func Known(name string) bool {
	_, ok := table[name]
	return ok
}

// Names lists every command of the table.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	return names
}

// Classify answers for the command document body, run on database db;
// name is its first key.
func Classify(db, name string, body bson.Raw) Request {
	r := Request{Name: name}
	s, ok := table[name]
	if !ok {
		// Unknown: a write for the pause, so a snapshot stays consistent
		// whatever it is.
		r.Writes = true
		return r
	}
	r.Class, r.Writes, r.Unsupported = s.class, s.writes, s.unsupported
	if r.Unsupported == "" {
		r.Unsupported = unsupportedIn(name, body)
	}
	if s.class != Command {
		return r
	}
	switch {
	case s.target != tNone:
		target(s.target, &r, db, body)
	case s.scope == Collection:
		r.need(Need{Scope: Collection, DB: db, Collection: firstString(body), Actions: s.actions})
	case s.scope == Database:
		r.need(Need{Scope: Database, DB: db, Actions: s.actions})
	case s.scope == Cluster:
		r.need(Need{Scope: Cluster, Actions: s.actions})
	}
	return r
}

// Name is the command's name: the first key of its document.
func Name(body bson.Raw) string {
	e, err := body.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

// firstString is the command's first value when it is a string: the
// collection of most commands.
func firstString(body bson.Raw) string {
	e, err := body.IndexErr(0)
	if err != nil {
		return ""
	}
	s, _ := e.Value().StringValueOK()
	return s
}

// splitNamespace splits "db.coll" at the first dot.
func splitNamespace(ns string) (db, coll string) {
	db, coll, _ = strings.Cut(ns, ".")
	return db, coll
}
