package mongowire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd/mongocmd"
)

// decodeAll runs everything the front does to a client's bytes before it
// forwards them: framing, OP_MSG and OP_QUERY parsing, the command table,
// the unsupported-value scan, the duplicate-field check and the index
// option rewrite. It returns how many messages it read.
func decodeAll(data []byte) int {
	r := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
	var buf []byte
	n := 0
	for {
		m, err := readMessage(r, buf)
		if err != nil {
			return n
		}
		n++
		buf = m[:0]
		_ = m.requestID()
		_ = m.flags()
		switch m.opCode() {
		case opQuery:
			_, q, err := m.opQueryDoc()
			if err == nil {
				_ = isHello(commandName(q))
			}
		case opMsg:
			body, seqs, err := m.opMsgBody()
			if err != nil {
				continue
			}
			cmd := commandName(body)
			_ = duplicateKey(body)
			db, _ := body.Lookup("$db").StringValueOK()
			class := mongocmd.Classify(db, cmd, body)
			_ = class.Needs()
			_ = unsupportedReason(&class, body, seqs)
			if cmd == "createIndexes" {
				if nb := stripIndexOptions(body); nb != nil {
					_ = newOpMsg(m.requestID(), 0, nb, seqs)
				}
			}
		}
	}
}

func opMsgBytes(reqID int32, flags uint32, body bson.D, seqs ...section1) []byte {
	raw, _ := bson.Marshal(body)
	m := newOpMsg(reqID, 0, raw, seqs)
	binary.LittleEndian.PutUint32(m[16:], flags)
	return m
}

// FuzzDecode feeds the front's decoder arbitrary client bytes: it must
// neither panic nor loop, whatever the lengths, section kinds, document
// sizes or nesting claim. The seed corpus (well-formed requests, each
// truncated and corrupted) runs with every go test.
func FuzzDecode(f *testing.F) {
	doc := func(d bson.D) bson.Raw { b, _ := bson.Marshal(d); return b }
	seeds := [][]byte{
		opMsgBytes(1, 0, bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "$db", Value: "app"}}),
		opMsgBytes(2, flagMoreToCome, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "app"}},
			section1{id: "documents", docs: []bson.Raw{doc(bson.D{{Key: "x", Value: 1}}), doc(bson.D{{Key: "y", Value: bson.A{1, "z"}}})}}),
		opMsgBytes(3, 0, bson.D{{Key: "createIndexes", Value: "c"}, {Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "name", Value: "a_1"}, {Key: "ns", Value: "app.c"}, {Key: "v", Value: 2}}}}, {Key: "$db", Value: "app"}}),
		opMsgBytes(4, 0, bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "d"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$out", Value: "e"}}}}}}}}}, {Key: "$db", Value: "app"}}),
		opMsgBytes(5, flagChecksumPresent, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}}),
		opMsgBytes(6, 0, bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}, {Key: "$db", Value: "admin"}}),
		legacyQuery(7, "admin.$cmd", bson.D{{Key: "isMaster", Value: 1}}),
		{16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0},         // OP_MSG with no flags or sections
		{0x00, 0x6c, 0xdc, 0x02, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0}, // claims 48 MB, sends a header
		{0xff, 0xff, 0xff, 0xff}, // negative length
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
		c := bytes.Clone(s)
		if len(c) > 22 {
			c[21] ^= 0x7f // a document length
		}
		f.Add(c)
		f.Add(append(bytes.Clone(s), s...)) // two messages back to back
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if n := decodeAll(data); n > len(data)/16 {
			t.Fatalf("read %d messages from %d bytes", n, len(data))
		}
	})
}

// TestDecodeRefusesWhatFerretDBWouldReadDifferently: a command document
// with a field twice, and an OP_MSG with two bodies, are refused before
// authorization reads them, so the front never checks one value while
// FerretDB uses another.
func TestDecodeRefusesWhatFerretDBWouldReadDifferently(t *testing.T) {
	dup, _ := bson.Marshal(bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}, {Key: "$db", Value: "admin"}})
	if k := duplicateKey(dup); k != "$db" {
		t.Errorf("duplicateKey = %q, want $db", k)
	}
	many := bson.D{{Key: "find", Value: "c"}}
	for i := range 40 {
		many = append(many, bson.E{Key: string(rune('a'+i%26)) + string(rune('a'+i/26)), Value: i})
	}
	raw, _ := bson.Marshal(append(many, bson.E{Key: "find", Value: "d"}))
	if k := duplicateKey(raw); k != "find" {
		t.Errorf("duplicateKey of a long document = %q, want find", k)
	}
	raw, _ = bson.Marshal(many)
	if k := duplicateKey(raw); k != "" {
		t.Errorf("duplicateKey without duplicates = %q", k)
	}
	one, _ := bson.Marshal(bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}})
	two, _ := bson.Marshal(bson.D{{Key: "drop", Value: "c"}, {Key: "$db", Value: "app"}})
	m := newOpMsg(1, 0, one, nil)
	m = append(m, 0)
	m = append(m, two...)
	binary.LittleEndian.PutUint32(m, uint32(len(m)))
	if _, _, err := m.opMsgBody(); err == nil {
		t.Error("an OP_MSG with two bodies was read")
	}
}

// TestReadMessageGrowsWithTheBytes: a header that claims the maximum size
// costs what was sent, not 48 MB.
func TestReadMessageGrowsWithTheBytes(t *testing.T) {
	hdr := []byte{0x00, 0x6c, 0xdc, 0x02, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 7, 0, 0}
	_, err := readMessage(bufio.NewReader(bytes.NewReader(hdr)), nil)
	if err == nil {
		t.Fatal("a truncated message was read")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	readMessage(bufio.NewReader(bytes.NewReader(hdr)), nil)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("a 16-byte message claiming 48 MB allocated %d bytes", got)
	}
}

// nested is a document holding a document under "a", depth levels deep.
func nested(depth int) []byte {
	total := 5 + 8*depth
	b := make([]byte, 0, total)
	for i := range depth {
		b = binary.LittleEndian.AppendUint32(b, uint32(total-8*i))
		b = append(b, 0x03, 'a', 0)
	}
	b = append(b, 5, 0, 0, 0, 0)
	for range depth {
		b = append(b, 0)
	}
	return b
}

// TestNestingDepthIsBounded: MongoDB refuses documents nested deeper than
// 200 levels; the front does too, before walking them, so a message
// nested byte by byte costs no deep recursion.
func TestNestingDepthIsBounded(t *testing.T) {
	if err := bson.Raw(nested(maxDepth)).Validate(); err != nil {
		t.Fatalf("nested document is malformed: %v", err)
	}
	if got := unsupportedType(nested(maxDepth)); got != "" {
		t.Errorf("%d levels: %q", maxDepth, got)
	}
	if got := unsupportedType(nested(maxDepth + 1)); got != tooDeep {
		t.Errorf("%d levels: %q, want %q", maxDepth+1, got, tooDeep)
	}
	deep := nested(2_000_000) // 16 MB, MongoDB's largest document
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if got := unsupportedType(deep); got != tooDeep {
		t.Errorf("2,000,000 levels: %q", got)
	}
	runtime.ReadMemStats(&after)
	if grew := after.StackSys - before.StackSys; grew > 1<<20 {
		t.Errorf("walking a deep document grew the stacks by %d bytes", grew)
	}
}
