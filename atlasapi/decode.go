package atlasapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/flexd/flexd"
)

// maxBodySize caps request bodies; Atlas bodies are a few hundred bytes.
const maxBodySize = 1 << 20

// Request bodies are plain structs whose json tags name the spec's
// properties. Two more markers carry the rest of the schema:
//
//   - the struct tag atlas:"required" marks a required property, and
//     atlas:"id" one that must look like an Atlas id (24 lowercase hex);
//   - a method ignored() []string lists the properties a client may send
//     but flexd does not use: the read-only properties that the official
//     clients echo back (the Go SDK sends clusterCount and a zero created
//     on project create, the CLI sends instanceName in a restore request).
//     They are accepted with any value and dropped.
//
// Any other property is an unknown attribute.
type ignorer interface {
	ignored() []string
}

// decode reads the request body into a new In, enforcing the media type and
// the size cap, then decodeJSON's rules.
func decode[In any](w http.ResponseWriter, r *http.Request) (*In, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	in, derr := decodeJSON[In](body)
	if derr != nil {
		return nil, derr
	}
	return in, nil
}

// decodeArray decodes a body that is a JSON array of E, with decodeJSON's
// rules and paths relative to the array ([0].roleName).
func decodeArray[E any](w http.ResponseWriter, r *http.Request) ([]E, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(body)
	if !json.Valid(trimmed) {
		return nil, flexd.MalformedJSON()
	}
	if trimmed[0] != '[' {
		return nil, flexd.InvalidJSON()
	}
	in, derr := decodeJSON[[]E](trimmed)
	if derr != nil {
		return nil, derr
	}
	return *in, nil
}

// readBody reads a JSON request body, enforcing the media type and the
// size cap.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !jsonBody(ct) {
		return nil, frameworkError(http.StatusUnsupportedMediaType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, frameworkError(http.StatusRequestEntityTooLarge)
		}
		return nil, flexd.MalformedJSON()
	}
	return body, nil
}

// jsonBody reports whether a request Content-Type is one Atlas accepts for
// a body: application/json or a versioned Atlas JSON type (any date: the
// body's version is the route's, whatever the client labels it).
func jsonBody(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "application/json" {
		return true
	}
	_, ok := versionOf(mt)
	return ok
}

// decodeJSON decodes a body the way Atlas validates one, reporting one
// problem at a time:
//
//  1. not parseable: MALFORMED_JSON; not an object (an array, when In is a
//     slice): INVALID_JSON. An empty body is an empty object, so a POST
//     without one names the first required attribute it lacks (more useful
//     than "malformed").
//  2. in document order, as a deserializer meets them: an unknown property
//     is INVALID_ATTRIBUTE, a value of the wrong JSON type
//     INVALID_JSON_ATTRIBUTE, both with the dotted path
//     (providerSettings.regionName, tags[0].key).
//  3. in schema order, descending into objects as it goes (the order Atlas
//     reports them in): a required property that is absent or null is
//     MISSING_ATTRIBUTE with its leaf name; a malformed id
//     INVALID_ATTRIBUTE.
//
// JSON null is the same as absent everywhere.
func decodeJSON[In any](body []byte) (*In, *flexd.Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return nil, flexd.MalformedJSON()
	}
	t := reflect.TypeFor[In]()
	open, members := json.Delim('{'), (*checker).object
	if t.Kind() == reflect.Slice {
		open, members = json.Delim('['), (*checker).elements
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != open {
		return nil, flexd.InvalidJSON()
	}
	c := checker{dec: dec}
	if err := members(&c, t, ""); err != nil {
		return nil, err
	}

	var tree any
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, flexd.MalformedJSON()
	}
	if err := checkValues(t, tree); err != nil {
		return nil, err
	}

	in := new(In)
	if err := json.Unmarshal(body, in); err != nil {
		// The checks above admit only what unmarshals; this is a bug.
		return nil, flexd.InvalidJSON()
	}
	return in, nil
}

// checker walks the token stream against a body type (step 2).
type checker struct {
	dec *json.Decoder
}

func (c *checker) token() (json.Token, *flexd.Error) {
	tok, err := c.dec.Token()
	if err != nil {
		return nil, flexd.MalformedJSON()
	}
	return tok, nil
}

// object checks the members of an object whose '{' has been read.
func (c *checker) object(t reflect.Type, path string) *flexd.Error {
	info := structOf(t)
	for c.dec.More() {
		tok, err := c.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		at := joinPath(path, key)
		if f, ok := info.byName[key]; ok {
			if err := c.value(f.typ, at, true); err != nil {
				return err
			}
			continue
		}
		if !info.ignored[key] {
			return flexd.InvalidAttribute(at)
		}
		if err := c.skip(); err != nil {
			return err
		}
	}
	_, err := c.token() // '}'
	return err
}

// value checks the next value against t. Null is absent, which only an
// object member may be.
func (c *checker) value(t reflect.Type, path string, nullable bool) *flexd.Error {
	tok, err := c.token()
	if err != nil {
		return err
	}
	if tok == nil && nullable {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	ok := false
	switch t.Kind() {
	case reflect.String:
		_, ok = tok.(string)
	case reflect.Bool:
		_, ok = tok.(bool)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, isNum := tok.(json.Number)
		_, perr := n.Int64()
		ok = isNum && perr == nil
	case reflect.Float64:
		n, isNum := tok.(json.Number)
		_, perr := n.Float64()
		ok = isNum && perr == nil
	case reflect.Slice:
		if tok == json.Delim('[') {
			return c.elements(t, path)
		}
	case reflect.Struct:
		if tok == json.Delim('{') {
			return c.object(t, path)
		}
	}
	if !ok {
		return flexd.InvalidJSONAttribute(path)
	}
	return nil
}

// elements checks the elements of an array whose '[' has been read.
func (c *checker) elements(t reflect.Type, path string) *flexd.Error {
	for i := 0; c.dec.More(); i++ {
		if err := c.value(t.Elem(), path+"["+itoa(i)+"]", false); err != nil {
			return err
		}
	}
	_, err := c.token() // ']'
	return err
}

// skip consumes the value of an ignored property.
func (c *checker) skip() *flexd.Error {
	depth := 0
	for {
		tok, err := c.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkValues is step 3 over the decoded tree, whose types step 2 checked.
func checkValues(t reflect.Type, v any) *flexd.Error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, _ := v.(map[string]any)
		for _, f := range structOf(t).fields {
			fv, present := m[f.name]
			if !present || fv == nil {
				if f.required {
					return flexd.MissingAttribute(f.name)
				}
				continue
			}
			if s, _ := fv.(string); f.id && !flexd.ValidID(s) {
				return flexd.InvalidAttribute(f.name)
			}
			if err := checkValues(f.typ, fv); err != nil {
				return err
			}
		}
	case reflect.Slice:
		items, _ := v.([]any)
		for _, item := range items {
			if err := checkValues(t.Elem(), item); err != nil {
				return err
			}
		}
	}
	return nil
}

// field is one property of a body type.
type field struct {
	name     string
	typ      reflect.Type
	required bool
	id       bool
}

// structInfo is what decoding needs to know about a body type, worked out
// once per type.
type structInfo struct {
	fields  []*field // in declaration (schema) order
	byName  map[string]*field
	ignored map[string]bool
}

var structInfos sync.Map // reflect.Type → *structInfo

func structOf(t reflect.Type) *structInfo {
	if info, ok := structInfos.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{byName: map[string]*field{}, ignored: map[string]bool{}}
	for sf := range t.Fields() {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		marks := "," + sf.Tag.Get("atlas") + ","
		f := &field{
			name:     name,
			typ:      sf.Type,
			required: strings.Contains(marks, ",required,"),
			id:       strings.Contains(marks, ",id,"),
		}
		info.fields = append(info.fields, f)
		info.byName[name] = f
	}
	if ig, ok := reflect.New(t).Elem().Interface().(ignorer); ok {
		for _, name := range ig.ignored() {
			info.ignored[name] = true
		}
	}
	actual, _ := structInfos.LoadOrStore(t, info)
	return actual.(*structInfo)
}
