package mongowire

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// readCommands never change data. Every other command counts as a write:
// a write pause holds it and a fence refuses it, so an unknown command errs
// on the side of a consistent snapshot.
var readCommands = set(
	"find", "getMore", "killCursors", "count", "distinct", "listCollections", "listDatabases",
	"listIndexes", "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo",
	"serverStatus", "dbStats", "dbstats", "collStats", "collstats", "dataSize", "explain", "getParameter",
	"whatsmyuri", "getLog", "hostInfo", "connectionStatus", "endSessions", "getCmdLineOpts",
	"saslStart", "saslContinue", "authenticate", "logout", "listCommands", "validate",
	"getFreeMonitoringStatus", "atlasVersion", "lockInfo", "currentOp", "top", "profile",
)

// unsupported are commands FerretDB v1.24 cannot serve, answered here with a
// clear error rather than whatever the backend would do.
var unsupported = map[string]string{
	"abortTransaction":  "transactions are not supported",
	"commitTransaction": "transactions are not supported",
	"mapReduce":         "mapReduce is not supported",
	"applyOps":          "applyOps is not supported",
	"eval":              "eval is not supported",
}

// authCommands go to the Authenticator when one is set.
var authCommands = set("saslStart", "saslContinue", "authenticate", "logout")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// commandName is the first key of a command document.
func commandName(body bson.Raw) string {
	e, err := body.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

func isWrite(cmd string, body bson.Raw) bool {
	if cmd == "aggregate" {
		return isAggregateWrite(body)
	}
	return !readCommands[cmd]
}

// isAggregateWrite reports an aggregate with an $out or $merge stage.
func isAggregateWrite(body bson.Raw) bool {
	pipeline, ok := body.Lookup("pipeline").ArrayOK()
	if !ok {
		return false
	}
	vals, _ := pipeline.Values()
	for _, v := range vals {
		stage, ok := v.DocumentOK()
		if !ok {
			continue
		}
		name := commandName(stage)
		if name == "$out" || name == "$merge" {
			return true
		}
	}
	return false
}

// unsupportedReason says why flexd answers a request with an error instead
// of passing it on; "" passes it on.
func unsupportedReason(cmd string, body bson.Raw, seqs []section1) string {
	if r, ok := unsupported[cmd]; ok {
		return r
	}
	if _, err := body.LookupErr("startTransaction"); err == nil {
		return "transactions are not supported"
	}
	if cmd == "aggregate" {
		if pipeline, ok := body.Lookup("pipeline").ArrayOK(); ok {
			vals, _ := pipeline.Values()
			for _, v := range vals {
				if st, ok := v.DocumentOK(); ok && commandName(st) == "$changeStream" {
					return "change streams are not supported"
				}
			}
		}
	}
	if cmd == "createIndexes" {
		if kind := specialIndex(body); kind != "" {
			return fmt.Sprintf("%q indexes are not supported", kind)
		}
	}
	if t := unsupportedType(body); t != "" {
		return t + " values are not supported"
	}
	for _, s := range seqs {
		for _, d := range s.docs {
			if t := unsupportedType(d); t != "" {
				return t + " values are not supported"
			}
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

// unsupportedType finds a BSON type FerretDB v1.24 cannot store, at any depth.
func unsupportedType(d bson.Raw) string {
	elems, err := d.Elements()
	if err != nil {
		return ""
	}
	for _, e := range elems {
		v := e.Value()
		switch v.Type {
		case bson.TypeDecimal128:
			return "Decimal128"
		case bson.TypeJavaScript, bson.TypeCodeWithScope:
			return "JavaScript code"
		case bson.TypeMinKey:
			return "MinKey"
		case bson.TypeMaxKey:
			return "MaxKey"
		case bson.TypeUndefined:
			return "undefined"
		case bson.TypeDBPointer:
			return "DBPointer"
		case bson.TypeSymbol:
			return "symbol"
		case bson.TypeEmbeddedDocument, bson.TypeArray:
			if t := unsupportedType(v.Value); t != "" {
				return t
			}
		}
	}
	return ""
}

// stripIndexOptions removes from a createIndexes command the index options
// FerretDB v1.24 rejects but mongorestore sends: "ns" (always, from old
// dumps) and "v" (with --keepIndexVersion). It returns nil when nothing
// changed.
func stripIndexOptions(body bson.Raw) bson.Raw {
	indexes, ok := body.Lookup("indexes").ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := indexes.Values()
	strip := false
	for _, v := range vals {
		if spec, ok := v.DocumentOK(); ok {
			if _, err := spec.LookupErr("ns"); err == nil {
				strip = true
			}
			if _, err := spec.LookupErr("v"); err == nil {
				strip = true
			}
		}
	}
	if !strip {
		return nil
	}
	var cmd bson.D
	if err := bson.Unmarshal(body, &cmd); err != nil {
		return nil
	}
	for i, e := range cmd {
		if e.Key != "indexes" {
			continue
		}
		arr, ok := e.Value.(bson.A)
		if !ok {
			return nil
		}
		for j, spec := range arr {
			d, ok := spec.(bson.D)
			if !ok {
				continue
			}
			out := d[:0:0]
			for _, f := range d {
				if f.Key != "ns" && f.Key != "v" {
					out = append(out, f)
				}
			}
			arr[j] = out
		}
		cmd[i].Value = arr
	}
	b, err := bson.Marshal(cmd)
	if err != nil {
		return nil
	}
	return b
}

func isHello(cmd string) bool {
	return strings.EqualFold(cmd, "hello") || strings.EqualFold(cmd, "isMaster")
}
