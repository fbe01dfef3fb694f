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

// unsupportedType finds a BSON type FerretDB v1.24 cannot store, at any
// depth. It walks the raw bytes without allocating: it runs on every
// request and every document of an insert.
func unsupportedType(d []byte) string {
	if len(d) < 5 {
		return ""
	}
	end := len(d) - 1
	for p := 4; p < end; {
		t := d[p]
		p++
		k := indexByte(d[p:], 0)
		if k < 0 {
			return ""
		}
		p += k + 1
		size := 0 // bytes of the value
		switch t {
		case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
			size = 8
		case 0x02: // string
			size = 4 + int(le32(d, p))
		case 0x03, 0x04: // document, array
			n := int(le32(d, p))
			if n < 5 || p+n > len(d) {
				return ""
			}
			if r := unsupportedType(d[p : p+n]); r != "" {
				return r
			}
			size = n
		case 0x05: // binary
			size = 4 + 1 + int(le32(d, p))
		case 0x07: // ObjectId
			size = 12
		case 0x08: // bool
			size = 1
		case 0x0A: // null
		case 0x0B: // regex: two cstrings
			a := indexByte(d[p:], 0)
			if a < 0 {
				return ""
			}
			b := indexByte(d[p+a+1:], 0)
			if b < 0 {
				return ""
			}
			size = a + 1 + b + 1
		case 0x10: // int32
			size = 4
		case 0x13:
			return "Decimal128"
		case 0x0D, 0x0F:
			return "JavaScript code"
		case 0xFF:
			return "MinKey"
		case 0x7F:
			return "MaxKey"
		case 0x06:
			return "undefined"
		case 0x0C:
			return "DBPointer"
		case 0x0E:
			return "symbol"
		default:
			return "" // malformed: FerretDB answers it
		}
		if size < 0 {
			return ""
		}
		p += size
	}
	return ""
}

func le32(d []byte, p int) int32 {
	if p+4 > len(d) {
		return -1 << 30
	}
	return int32(uint32(d[p]) | uint32(d[p+1])<<8 | uint32(d[p+2])<<16 | uint32(d[p+3])<<24)
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
