package seed

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a fault of a seed file: the file, the line and the field it is
// at, and what is wrong. Faults found while applying a file (a public key
// that belongs to another organization) carry a position too.
type Error struct {
	File  string
	Line  int
	Field string // a path such as organizations[0].projects[1].name
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// object is one YAML mapping of the file with the fields it may have,
// so that every value read and every fault found names its line and field.
type object struct {
	file string
	path string
	node *yaml.Node
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

// at is a position in the file, kept by what Apply writes so that its
// faults name where they come from.
type at struct {
	file string
	line int
	path string
}

func (a at) errorf(format string, args ...any) *Error {
	return &Error{File: a.file, Line: a.line, Field: a.path, Err: fmt.Errorf(format, args...)}
}

func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// newObject reads n as a mapping with the given fields and no others.
func newObject(file, path string, n *yaml.Node, fields ...string) (*object, error) {
	if n.Kind != yaml.MappingNode {
		return nil, at{file, n.Line, path}.errorf("must be a mapping, not %s", kindName(n))
	}
	o := &object{file: file, path: path, node: n, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !slices.Contains(fields, name) {
			return nil, at{file, k.Line, field(path, name)}.errorf("unknown field (%s has %s)", orRoot(path), strings.Join(fields, ", "))
		}
		if _, dup := o.keys[name]; dup {
			return nil, at{file, k.Line, field(path, name)}.errorf("given twice")
		}
		o.keys[name], o.vals[name] = k, v
	}
	return o, nil
}

func orRoot(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a scalar"
}

// at is where field name is: its value's line, or the object's when the
// field is missing.
func (o *object) at(name string) at {
	if v, ok := o.vals[name]; ok {
		return at{o.file, v.Line, field(o.path, name)}
	}
	return at{o.file, o.node.Line, field(o.path, name)}
}

// self is where the object is.
func (o *object) self() at { return at{o.file, o.node.Line, o.path} }

func (o *object) has(name string) bool { _, ok := o.vals[name]; return ok }

func (o *object) scalar(name string) (*yaml.Node, error) {
	v, ok := o.vals[name]
	if !ok {
		return nil, nil
	}
	if v.Kind != yaml.ScalarNode {
		return nil, o.at(name).errorf("must be a scalar, not %s", kindName(v))
	}
	return v, nil
}

// str reads a string; required fails when it is missing or empty.
func (o *object) str(name string, required bool) (string, error) {
	v, err := o.scalar(name)
	if err != nil {
		return "", err
	}
	if v == nil || v.Value == "" {
		if required {
			return "", o.at(name).errorf("is required")
		}
		return "", nil
	}
	if v.Tag != "!!str" {
		return "", o.at(name).errorf("must be a string, not %s (quote it)", v.Value)
	}
	return v.Value, nil
}

func (o *object) boolean(name string) (bool, error) {
	v, err := o.scalar(name)
	if err != nil || v == nil {
		return false, err
	}
	b, err := strconv.ParseBool(v.Value)
	if v.Tag != "!!bool" || err != nil {
		return false, o.at(name).errorf("must be true or false, not %q", v.Value)
	}
	return b, nil
}

func (o *object) integer(name string) (int, bool, error) {
	v, err := o.scalar(name)
	if err != nil || v == nil {
		return 0, false, err
	}
	n, err := strconv.Atoi(v.Value)
	if v.Tag != "!!int" || err != nil {
		return 0, false, o.at(name).errorf("must be a whole number, not %q", v.Value)
	}
	return n, true, nil
}

// time reads an RFC 3339 time, as Atlas writes them (2026-01-02T03:04:05Z).
func (o *object) time(name string) (time.Time, error) {
	v, err := o.scalar(name)
	if err != nil || v == nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v.Value)
	if err != nil {
		return time.Time{}, o.at(name).errorf("must be an RFC 3339 time such as 2026-01-02T03:04:05Z, not %q", v.Value)
	}
	return t.UTC().Truncate(time.Second), nil
}

// list reads a sequence and returns its items with their paths.
func (o *object) list(name string) ([]*yaml.Node, error) {
	v, ok := o.vals[name]
	if !ok || v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, o.at(name).errorf("must be a list, not %s", kindName(v))
	}
	return v.Content, nil
}

func (o *object) itemPath(name string, i int) string {
	return fmt.Sprintf("%s[%d]", field(o.path, name), i)
}

// strings reads a list of strings.
func (o *object) strings(name string) ([]string, error) {
	items, err := o.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if it.Kind != yaml.ScalarNode || it.Tag != "!!str" || it.Value == "" {
			return nil, at{o.file, it.Line, o.itemPath(name, i)}.errorf("must be a non-empty string")
		}
		out = append(out, it.Value)
	}
	return out, nil
}
