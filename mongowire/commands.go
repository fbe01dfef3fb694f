package mongowire

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd/mongocmd"
)

// The command table (what each command needs, whether it writes, what
// FerretDB cannot serve) is mongocmd's, shared with authorization.

// commandName is the first key of a command document.
func commandName(body bson.Raw) string { return mongocmd.Name(body) }

// unsupportedReason says why flexd answers a request with an error instead
// of passing it on; "" passes it on. The table knows the commands; the
// values FerretDB cannot store are looked for here, in the body and every
// document sequence.
func unsupportedReason(r *mongocmd.Request, body bson.Raw, seqs []section1) string {
	if r.Unsupported != "" {
		return r.Unsupported
	}
	if t := unsupportedType(body); t != "" {
		return typeReason(t)
	}
	for _, s := range seqs {
		for _, d := range s.docs {
			if t := unsupportedType(d); t != "" {
				return typeReason(t)
			}
		}
	}
	return ""
}

func typeReason(t string) string {
	if t == tooDeep {
		return tooDeep
	}
	return t + " values are not supported"
}

// maxDepth is MongoDB's limit on nested documents and arrays
// (BSONDepth::kDefaultMaxAllowableDepth). Deeper requests are refused
// before anything walks them: a 48 MB message nested byte by byte would
// otherwise cost a recursive walk seconds and half a gigabyte of stack.
const maxDepth = 200

// tooDeep is what unsupportedType and unsupportedReason return for a
// document nested deeper than maxDepth; the front answers it with
// MongoDB's 15 Overflow.
const tooDeep = "BSONObj exceeds maximum nested object depth: 200"

// unsupportedType finds a BSON type FerretDB v1.24 cannot store, at any
// depth. It walks the raw bytes without allocating: it runs on every
// request and every document of an insert.
func unsupportedType(d []byte) string { return scanTypes(d, 0) }

func scanTypes(d []byte, depth int) string {
	if depth > maxDepth {
		return tooDeep
	}
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
			if r := scanTypes(d[p:p+n], depth+1); r != "" {
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
