package flexd

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sentenceParameter lists the codes whose parameters are not the values of
// their template's placeholders: Atlas sends one sentence of its own.
var sentenceParameter = map[string]bool{
	"CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED": true,
}

// TestEveryCodeHasOneConstructor reads the package's source: every code in
// the catalogue is built by exactly one constructor named after it, which
// passes as many parameters as the template has placeholders, and nothing
// else calls newError. So a code string and its parameters are checked
// when flexd compiles, not by a panic when a request takes a rare path.
func TestEveryCodeHasOneConstructor(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	constructors := map[string]string{} // code → constructor
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			var calls []*ast.CallExpr
			ast.Inspect(fn, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "newError" {
						calls = append(calls, c)
					}
				}
				return true
			})
			if len(calls) == 0 {
				continue
			}
			where := fset.Position(fn.Pos()).String() + " " + fn.Name.Name
			if len(calls) != 1 || len(fn.Body.List) != 1 {
				t.Errorf("%s: a constructor is one return of one newError call", where)
				continue
			}
			call := calls[0]
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: newError's code must be a literal", where)
				continue
			}
			code, _ := strconv.Unquote(lit.Value)
			def, ok := catalogue[code]
			if !ok {
				t.Errorf("%s: %s is not in the catalogue", where, code)
				continue
			}
			if other, dup := constructors[code]; dup {
				t.Errorf("%s: %s already has constructor %s", where, code, other)
			}
			constructors[code] = fn.Name.Name
			if want := goName(code); fn.Name.Name != want {
				t.Errorf("%s: the constructor of %s is named %s", where, code, want)
			}
			params := 0
			for _, p := range fn.Type.Params.List {
				params += len(p.Names)
			}
			args, placeholders := len(call.Args)-1, strings.Count(def.template, "%v")
			if sentenceParameter[code] {
				if placeholders != 0 || args != 1 {
					t.Errorf("%s: %s takes one sentence and no placeholders", where, code)
				}
				continue
			}
			if args != placeholders || params != placeholders {
				t.Errorf("%s: %d parameters and %d values for %d placeholders in %q",
					where, params, args, placeholders, def.template)
			}
		}
	}
	for code := range catalogue {
		if _, ok := constructors[code]; !ok {
			t.Errorf("%s has no constructor (or is no longer used: drop it)", code)
		}
	}
}

// goName is a code's name in Go: CLUSTER_NOT_FOUND is ClusterNotFound,
// API_KEY_NOT_FOUND APIKeyNotFound.
func goName(code string) string {
	var b strings.Builder
	for w := range strings.SplitSeq(code, "_") {
		switch w {
		case "API", "ID", "JSON", "IP", "CIDR", "AWS", "VPC", "URI":
			b.WriteString(w)
		default:
			b.WriteString(w[:1] + strings.ToLower(w[1:]))
		}
	}
	return b.String()
}

// TestConstructorsFillTemplates pins what a client sees for constructors
// whose parameters are not plain strings.
func TestConstructorsFillTemplates(t *testing.T) {
	for _, tc := range []struct {
		err    *Error
		detail string
		params []any
	}{
		{RateLimited("api/atlas/v2/groups", 100, 1), "Resource api/atlas/v2/groups is limited to 100 requests every 1 minutes.",
			[]any{"api/atlas/v2/groups", 100, 1}},
		{InvalidRoleForGroup(RoleGroupOwner, "g1"), "Role GROUP_OWNER is invalid for group g1.", []any{"GROUP_OWNER", "g1"}},
		{CannotTerminateClusterWhenTerminationProtectionEnabled("c1", "g1"),
			"Cannot terminate a cluster when termination protection is enabled. Disable termination protection and try again.",
			[]any{"Cannot terminate cluster c1 in group g1 because termination protection is enabled. Disable termination protection and try again."}},
		{MalformedJSON(), "Received JSON is malformed.", []any{}},
	} {
		if tc.err.Detail != tc.detail || !sameParams(tc.err.Parameters, tc.params) {
			t.Errorf("%s: %q %#v, want %q %#v", tc.err.Code, tc.err.Detail, tc.err.Parameters, tc.detail, tc.params)
		}
	}
}

func sameParams(a, b []any) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTemplatesMatchAtlasErrors compares the catalogue with the detail
// templates recorded in shared/ATLAS-ERRORS.md (found beside the spec the
// contract tests use, see README): clients and humans grep on them, so they
// must stay byte-exact. Codes of flexd's own are not in it.
func TestTemplatesMatchAtlasErrors(t *testing.T) {
	spec := os.Getenv("FLEXD_ATLAS_SPEC")
	if spec == "" {
		spec = filepath.Join("..", "shared", "spec", "atlas-flexd-subset.yaml")
	}
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(spec), "..", "ATLAS-ERRORS.md"))
	if os.IsNotExist(err) && os.Getenv("FLEXD_REQUIRE_SPEC") != "1" {
		t.Skip("no shared/ATLAS-ERRORS.md beside the spec: set FLEXD_ATLAS_SPEC to shared/spec/atlas-flexd-subset.yaml (FLEXD_REQUIRE_SPEC=1 makes this a failure, as CI does)")
	}
	if err != nil {
		t.Fatal(err)
	}
	// A row: | CODE (or CODE / CODE) | status | reason | `template` | ...
	row := regexp.MustCompile("^\\| ([A-Z_ /]+) \\| (\\d+) \\| [^|]* \\| `([^`]*)` \\|")
	placeholder := regexp.MustCompile(`<[^>]+>`)
	compared := 0
	for line := range strings.SplitSeq(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for code := range strings.SplitSeq(m[1], " / ") {
			def, ok := catalogue[code]
			if !ok {
				continue
			}
			compared++
			if want := placeholder.ReplaceAllString(m[3], "%v"); def.template != want {
				t.Errorf("%s: template %q, ATLAS-ERRORS.md has %q", code, def.template, want)
			}
			if status := strconv.Itoa(def.status); status != m[2] {
				t.Errorf("%s: status %s, ATLAS-ERRORS.md has %s", code, status, m[2])
			}
		}
	}
	if compared < len(catalogue)/2 {
		t.Errorf("compared only %d of %d codes: has the table's layout changed?", compared, len(catalogue))
	}
}
