package mongowire

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestUnsupportedTypeScansEveryType(t *testing.T) {
	dec, _ := bson.ParseDecimal128("1.1")
	ok := bson.D{
		{Key: "d", Value: 1.5}, {Key: "s", Value: "x"}, {Key: "o", Value: bson.D{{Key: "a", Value: bson.A{1, "b"}}}},
		{Key: "b", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}}, {Key: "id", Value: bson.NewObjectID()},
		{Key: "t", Value: true}, {Key: "dt", Value: bson.DateTime(5)}, {Key: "n", Value: nil},
		{Key: "re", Value: bson.Regex{Pattern: "a", Options: "i"}}, {Key: "i", Value: int32(1)},
		{Key: "ts", Value: bson.Timestamp{T: 1, I: 2}}, {Key: "l", Value: int64(3)},
	}
	raw, _ := bson.Marshal(ok)
	if got := unsupportedType(raw); got != "" {
		t.Fatalf("supported types reported as %q", got)
	}
	for want, v := range map[string]any{
		"Decimal128":      dec,
		"MinKey":          bson.MinKey{},
		"MaxKey":          bson.MaxKey{},
		"JavaScript code": bson.JavaScript("1"),
		"undefined":       bson.Undefined{},
		"symbol":          bson.Symbol("s"),
		"DBPointer":       bson.DBPointer{DB: "x", Pointer: bson.NewObjectID()},
	} {
		// After every supported type, and nested in an array in a document.
		d := append(append(bson.D{}, ok...), bson.E{Key: "deep", Value: bson.D{{Key: "arr", Value: bson.A{1, v}}}})
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := unsupportedType(raw); got != want {
			t.Errorf("unsupportedType = %q, want %q", got, want)
		}
	}
}

func FuzzUnsupportedType(f *testing.F) {
	raw, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.Regex{Pattern: "x"}}}}, {Key: "s", Value: "str"}})
	f.Add(raw)
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Add([]byte{12, 0, 0, 0, 2, 'a', 0, 0xff, 0xff, 0xff, 0x7f, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		unsupportedType(b) // must not panic on any input
	})
}
