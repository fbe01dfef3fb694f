package dbauth

import (
	"encoding/hex"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FormatCommand prints a command document the way mongod prints one in its
// "not authorized … to execute command" message (BSONObj::toString):
// { find: "c", filter: { a: 1 }, $db: "test" }. A password a command
// carries (createUser, updateUser) is shown as "xxx", as mongod redacts
// it.
func FormatCommand(body bson.Raw) string {
	var b strings.Builder
	formatDoc(&b, body, false, 0)
	return b.String()
}

// maxFormatDepth bounds nesting, as mongod's toString does.
const maxFormatDepth = 100

func formatDoc(b *strings.Builder, d bson.Raw, array bool, depth int) {
	elems, err := d.Elements()
	if err != nil || len(elems) == 0 {
		if array {
			b.WriteString("[]")
		} else {
			b.WriteString("{}")
		}
		return
	}
	if depth > maxFormatDepth {
		b.WriteString("...")
		return
	}
	if array {
		b.WriteString("[ ")
	} else {
		b.WriteString("{ ")
	}
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		if !array {
			b.WriteString(e.Key())
			b.WriteString(": ")
		}
		if depth == 0 && e.Key() == "pwd" {
			b.WriteString(`"xxx"`)
			continue
		}
		formatValue(b, e.Value(), depth)
	}
	if array {
		b.WriteString(" ]")
	} else {
		b.WriteString(" }")
	}
}

func formatValue(b *strings.Builder, v bson.RawValue, depth int) {
	switch v.Type {
	case bson.TypeDouble:
		b.WriteString(formatDouble(v.Double()))
	case bson.TypeString:
		s := v.StringValue()
		b.WriteByte('"')
		if len(s) > 160 { // mongod shortens long strings
			b.WriteString(s[:150])
			b.WriteString(`..."`)
			return
		}
		b.WriteString(s)
		b.WriteByte('"')
	case bson.TypeEmbeddedDocument:
		formatDoc(b, v.Document(), false, depth+1)
	case bson.TypeArray:
		formatDoc(b, bson.Raw(v.Array()), true, depth+1)
	case bson.TypeBinary:
		sub, data := v.Binary()
		if (sub == 3 || sub == 4) && len(data) == 16 {
			h := hex.EncodeToString(data)
			b.WriteString(`UUID("` + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + `")`)
			return
		}
		b.WriteString("BinData(" + strconv.Itoa(int(sub)) + ", " + strings.ToUpper(hex.EncodeToString(data)) + ")")
	case bson.TypeUndefined:
		b.WriteString("undefined")
	case bson.TypeObjectID:
		b.WriteString("ObjectId('" + v.ObjectID().Hex() + "')")
	case bson.TypeBoolean:
		b.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeDateTime:
		b.WriteString("new Date(" + strconv.FormatInt(v.DateTime(), 10) + ")")
	case bson.TypeNull:
		b.WriteString("null")
	case bson.TypeRegex:
		p, o := v.Regex()
		b.WriteString("/" + p + "/" + o)
	case bson.TypeInt32:
		b.WriteString(strconv.Itoa(int(v.Int32())))
	case bson.TypeTimestamp:
		t, i := v.Timestamp()
		b.WriteString("Timestamp(" + strconv.FormatUint(uint64(t), 10) + ", " + strconv.FormatUint(uint64(i), 10) + ")")
	case bson.TypeInt64:
		b.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDecimal128:
		b.WriteString(`NumberDecimal("` + v.Decimal128().String() + `")`)
	case bson.TypeMinKey:
		b.WriteString("MinKey")
	case bson.TypeMaxKey:
		b.WriteString("MaxKey")
	default:
		b.WriteString(v.String())
	}
}

// formatDouble is mongod's appendDoubleNice: %.16g, with ".0" after a
// number that shows neither a point nor an exponent.
func formatDouble(f float64) string {
	s := strconv.FormatFloat(f, 'g', 16, 64)
	switch s {
	case "NaN":
		return "nan"
	case "+Inf":
		return "inf"
	case "-Inf":
		return "-inf"
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
