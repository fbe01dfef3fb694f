package mongocmd

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The table. Rows name MongoDB's actions for each command (the privilege
// MongoDB checks, from its built-in roles reference); FerretDB's old
// lowercase spellings have rows of their own.
var table = map[string]spec{
	// Before authentication.
	"hello":     {class: Handshake},
	"isMaster":  {class: Handshake},
	"ismaster":  {class: Handshake},
	"buildInfo": {class: Handshake},
	"buildinfo": {class: Handshake},
	"ping":      {class: Handshake},
	// A driver ends its sessions as it disconnects, logged in or not.
	"endSessions": {class: Handshake},

	// The authentication conversation.
	"saslStart":    {class: Auth},
	"saslContinue": {class: Auth},
	"authenticate": {class: Auth},
	"logout":       {class: Auth},

	// Any authenticated user.
	"connectionStatus": {class: Command},
	"whatsmyuri":       {class: Command},
	"listCommands":     {class: Command},

	// Reads.
	"find":            {class: Command, scope: Collection, actions: Find},
	"count":           {class: Command, scope: Collection, actions: Find},
	"distinct":        {class: Command, scope: Collection, actions: Find},
	"getMore":         {class: Command, target: tGetMore},
	"killCursors":     {class: Command, scope: Collection, actions: KillCursors},
	"listIndexes":     {class: Command, scope: Collection, actions: ListIndexes},
	"listCollections": {class: Command, scope: Database, actions: ListCollections},
	"collStats":       {class: Command, scope: Collection, actions: CollStats},
	"dataSize":        {class: Command, target: tDataSize},
	"dbStats":         {class: Command, scope: Database, actions: DBStats},
	"dbstats":         {class: Command, scope: Database, actions: DBStats},
	"aggregate":       {class: Command, target: tAggregate},
	"listDatabases":   {class: Command, target: tListDatabases},
	"explain":         {class: Command, target: tExplain},

	// Writes.
	"insert":           {class: Command, scope: Collection, actions: Insert, writes: true},
	"update":           {class: Command, scope: Collection, actions: Update, writes: true},
	"delete":           {class: Command, scope: Collection, actions: Remove, writes: true},
	"findAndModify":    {class: Command, target: tFindAndModify, writes: true},
	"findandmodify":    {class: Command, target: tFindAndModify, writes: true},
	"create":           {class: Command, scope: Collection, actions: CreateCollection, writes: true},
	"drop":             {class: Command, scope: Collection, actions: DropCollection, writes: true},
	"createIndexes":    {class: Command, scope: Collection, actions: CreateIndex, writes: true},
	"dropIndexes":      {class: Command, scope: Collection, actions: DropIndex, writes: true},
	"deleteIndexes":    {class: Command, scope: Collection, actions: DropIndex, writes: true},
	"renameCollection": {class: Command, target: tRename, writes: true},

	// Database administration (dbAdmin).
	"collMod":      {class: Command, scope: Collection, actions: CollMod, writes: true},
	"compact":      {class: Command, scope: Collection, actions: Compact, writes: true},
	"validate":     {class: Command, scope: Collection, actions: Validate},
	"dropDatabase": {class: Command, scope: Database, actions: DropDatabase, writes: true},

	// Cluster monitoring (clusterMonitor, which atlasAdmin includes).
	"serverStatus":            {class: Command, scope: Cluster, actions: ServerStatus},
	"currentOp":               {class: Command, scope: Cluster, actions: InProg},
	"getLog":                  {class: Command, scope: Cluster, actions: GetLog},
	"hostInfo":                {class: Command, scope: Cluster, actions: HostInfo},
	"getCmdLineOpts":          {class: Command, scope: Cluster, actions: GetCmdLineOpts},
	"getParameter":            {class: Command, scope: Cluster, actions: GetParameter},
	"getFreeMonitoringStatus": {class: Command, scope: Cluster, actions: CheckFreeMonitoringStatus},
	"setFreeMonitoring":       {class: Command, scope: Cluster, actions: SetFreeMonitoring, writes: true},

	// User and role management: Atlas manages database users through its
	// API, and refuses these to every user; so does flexd.
	"createUser":               {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"updateUser":               {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"dropUser":                 {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"dropAllUsersFromDatabase": {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"usersInfo":                {class: Command, scope: Database, actions: ManageUsers},
	"grantRolesToUser":         {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"revokeRolesFromUser":      {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"createRole":               {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"dropRole":                 {class: Command, scope: Database, actions: ManageUsers, writes: true},
	"rolesInfo":                {class: Command, scope: Database, actions: ManageUsers},

	// Refused to everyone: FerretDB v1.24 cannot serve them, or (debugError)
	// they are FerretDB's own test hooks.
	"abortTransaction":  {class: Command, unsupported: "transactions are not supported", writes: true},
	"commitTransaction": {class: Command, unsupported: "transactions are not supported", writes: true},
	"mapReduce":         {class: Command, unsupported: "mapReduce is not supported", writes: true},
	"applyOps":          {class: Command, unsupported: "applyOps is not supported", writes: true},
	"eval":              {class: Command, unsupported: "eval is not supported", writes: true},
	"debugError":        {class: Command, unsupported: "debugError is FerretDB's test command", writes: true},
}

// target finds what a command with a target kind touches.
func target(t targetKind, r *Request, db string, body bson.Raw) {
	switch t {
	case tGetMore:
		getMoreTarget(r, db, body)
	case tDataSize:
		dataSizeTarget(r, db, body)
	case tAggregate:
		aggregateTarget(r, db, body)
	case tListDatabases:
		listDatabasesTarget(r, db, body)
	case tFindAndModify:
		findAndModifyTarget(r, db, body)
	case tRename:
		renameTarget(r, db, body)
	case tExplain:
		explainTarget(r, db, body)
	}
}

// getMoreTarget: a cursor's next batch needs find on the namespace the
// cursor reads. FerretDB's cursor ids are sequential and not tied to a
// user behind flexd's front, so the namespace is checked on every batch.
// A cursor over a database (aggregate: 1, "$cmd.aggregate") needs find
// on the database.
func getMoreTarget(r *Request, db string, body bson.Raw) {
	coll, _ := body.Lookup("collection").StringValueOK()
	if len(coll) >= 5 && coll[:5] == "$cmd." {
		r.need(Need{Scope: Database, DB: db, Actions: Find})
		return
	}
	r.need(Need{Scope: Collection, DB: db, Collection: coll, Actions: Find})
}

// dataSizeTarget: dataSize names a full namespace, "db.coll".
func dataSizeTarget(r *Request, _ string, body bson.Raw) {
	db, coll := splitNamespace(firstString(body))
	r.need(Need{Scope: Collection, DB: db, Collection: coll, Actions: Find})
}

// listDatabasesTarget: the cluster-wide action, or (FilterDatabases) the
// databases the user has privileges on.
func listDatabasesTarget(r *Request, _ string, body bson.Raw) {
	r.need(Need{Scope: Cluster, Actions: ListDatabases})
	if v, ok := body.Lookup("authorizedDatabases").BooleanOK(); !ok || v {
		r.FilterDatabases = true
	}
}

// findAndModifyTarget: find and update, or find and remove; an upsert
// inserts.
func findAndModifyTarget(r *Request, db string, body bson.Raw) {
	a := Find | Update
	if truthy(body.Lookup("remove")) {
		a = Find | Remove
	}
	if truthy(body.Lookup("upsert")) {
		a |= Insert
	}
	r.need(Need{Scope: Collection, DB: db, Collection: firstString(body), Actions: a})
}

// renameTarget: renameCollection runs on admin and names full namespaces.
// Within a database it needs renameCollectionSameDB on the database (and
// dropCollection with dropTarget); across databases, find and
// dropCollection on the source, insert, createCollection and createIndex
// on the target.
func renameTarget(r *Request, _ string, body bson.Raw) {
	srcDB, srcColl := splitNamespace(firstString(body))
	to, _ := body.Lookup("to").StringValueOK()
	dstDB, dstColl := splitNamespace(to)
	drop := truthy(body.Lookup("dropTarget"))
	if srcDB == dstDB {
		a := RenameCollectionSameDB
		if drop {
			a |= DropCollection
		}
		r.need(Need{Scope: Database, DB: srcDB, Actions: a})
		return
	}
	r.need(Need{Scope: Collection, DB: srcDB, Collection: srcColl, Actions: Find | DropCollection})
	a := Insert | CreateCollection | CreateIndex
	if drop {
		a |= DropCollection
	}
	r.need(Need{Scope: Collection, DB: dstDB, Collection: dstColl, Actions: a})
}

// explainTarget: explaining a command needs what running it needs; the
// explain itself changes nothing.
func explainTarget(r *Request, db string, body bson.Raw) {
	inner, ok := body.Lookup("explain").DocumentOK()
	name := Name(inner)
	s, known := table[name]
	if !ok || !known || s.class != Command || name == "explain" {
		// MongoDB explains find, aggregate, count, distinct, update,
		// delete and findAndModify; anything else is an unknown command
		// for authorization (refused).
		r.Class = Unknown
		return
	}
	in := Classify(db, name, inner)
	for _, n := range in.Needs() {
		r.need(n)
	}
	r.tooMany = r.tooMany || in.tooMany
	if in.Unsupported != "" {
		r.Unsupported = in.Unsupported
	}
}

// aggregateTarget: find on the collection aggregated (or on the database
// for aggregate: 1), find on every collection a $lookup, $graphLookup or
// $unionWith reads, and insert and remove on the collection an $out or
// $merge writes ($merge may also update). Only those output stages make
// an aggregate a write.
func aggregateTarget(r *Request, db string, body bson.Raw) {
	if coll := firstString(body); coll != "" {
		r.need(Need{Scope: Collection, DB: db, Collection: coll, Actions: Find})
	} else {
		r.need(Need{Scope: Database, DB: db, Actions: Find})
	}
	pipeline, ok := body.Lookup("pipeline").ArrayOK()
	if !ok {
		return
	}
	pipelineNeeds(r, db, pipeline, 0)
}

func pipelineNeeds(r *Request, db string, pipeline bson.RawArray, depth int) {
	if depth > 10 {
		r.tooMany = true
		return
	}
	vals, _ := pipeline.Values()
	for _, v := range vals {
		stage, ok := v.DocumentOK()
		if !ok {
			continue
		}
		e, err := stage.IndexErr(0)
		if err != nil {
			continue
		}
		arg := e.Value()
		switch e.Key() {
		case "$out":
			odb, ocoll := outputTarget(db, arg, "db", "coll")
			r.Writes = true
			r.need(Need{Scope: Collection, DB: odb, Collection: ocoll, Actions: Insert | Remove})
		case "$merge":
			into := arg
			if d, ok := arg.DocumentOK(); ok {
				into = d.Lookup("into")
			}
			odb, ocoll := outputTarget(db, into, "db", "coll")
			r.Writes = true
			r.need(Need{Scope: Collection, DB: odb, Collection: ocoll, Actions: Insert | Remove | Update})
		case "$lookup", "$graphLookup":
			d, _ := arg.DocumentOK()
			from, _ := d.Lookup("from").StringValueOK()
			if from != "" {
				r.need(Need{Scope: Collection, DB: db, Collection: from, Actions: Find})
			}
			if sub, ok := d.Lookup("pipeline").ArrayOK(); ok {
				pipelineNeeds(r, db, sub, depth+1)
			}
		case "$unionWith":
			coll, isName := arg.StringValueOK()
			d, _ := arg.DocumentOK()
			if !isName {
				coll, _ = d.Lookup("coll").StringValueOK()
			}
			if coll != "" {
				r.need(Need{Scope: Collection, DB: db, Collection: coll, Actions: Find})
			}
			if sub, ok := d.Lookup("pipeline").ArrayOK(); ok {
				pipelineNeeds(r, db, sub, depth+1)
			}
		case "$facet":
			d, _ := arg.DocumentOK()
			elems, _ := d.Elements()
			for _, f := range elems {
				if sub, ok := f.Value().ArrayOK(); ok {
					pipelineNeeds(r, db, sub, depth+1)
				}
			}
		}
	}
}

// outputTarget reads an output stage's target: a collection name, or a
// document {db, coll}.
func outputTarget(db string, v bson.RawValue, dbKey, collKey string) (string, string) {
	if s, ok := v.StringValueOK(); ok {
		return db, s
	}
	d, _ := v.DocumentOK()
	odb, _ := d.Lookup(dbKey).StringValueOK()
	coll, _ := d.Lookup(collKey).StringValueOK()
	if odb == "" {
		odb = db
	}
	return odb, coll
}

// truthy is MongoDB's reading of a boolean option given as any number or
// bool.
func truthy(v bson.RawValue) bool {
	switch v.Type {
	case bson.TypeBoolean:
		return v.Boolean()
	case bson.TypeInt32:
		return v.Int32() != 0
	case bson.TypeInt64:
		return v.Int64() != 0
	case bson.TypeDouble:
		return v.Double() != 0
	}
	return false
}

// unsupportedIn finds what FerretDB v1.24 cannot serve inside a command
// the table otherwise knows: transactions, change streams, and index
// kinds other than B-tree.
func unsupportedIn(name string, body bson.Raw) string {
	if _, err := body.LookupErr("startTransaction"); err == nil {
		return "transactions are not supported"
	}
	switch name {
	case "aggregate":
		if pipeline, ok := body.Lookup("pipeline").ArrayOK(); ok {
			vals, _ := pipeline.Values()
			for _, v := range vals {
				if st, ok := v.DocumentOK(); ok && Name(st) == "$changeStream" {
					return "change streams are not supported"
				}
			}
		}
	case "createIndexes":
		if kind := specialIndex(body); kind != "" {
			return fmt.Sprintf("%q indexes are not supported", kind)
		}
	}
	return ""
}

// specialIndex returns the kind of the first non-B-tree index (text,
// hashed, 2dsphere, 2d) a createIndexes asks for; FerretDB v1.24 answers
// those with a misleading IndexNotFound.
func specialIndex(body bson.Raw) string {
	indexes, ok := body.Lookup("indexes").ArrayOK()
	if !ok {
		return ""
	}
	vals, _ := indexes.Values()
	for _, v := range vals {
		spec, ok := v.DocumentOK()
		if !ok {
			continue
		}
		key, ok := spec.Lookup("key").DocumentOK()
		if !ok {
			continue
		}
		elems, _ := key.Elements()
		for _, e := range elems {
			if kind, ok := e.Value().StringValueOK(); ok {
				return kind
			}
		}
	}
	return ""
}
