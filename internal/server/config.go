package server

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// envFlags is serve's command line: every setting is a flag, an
// environment variable (shown beside the flag in --help) and a key of the
// --config file named like the flag. A value given as a flag wins over the
// variable, the variable over the file, the file over the default.
//
// It is the standard library's flag package and a page of code rather than
// a command-line library: flexd's Run takes its environment as a getenv
// function (tests and in-process servers never read or change the
// process's environment), which ff/v3 and koanf's env provider cannot be
// given; cobra/pflag and kong would change the syntax users already have
// (-listen with one dash); urfave/cli/v3 fits but reads file values in a
// post-parse hook that cannot fail with the file and line. See
// docs/ARCHITECTURE.md, "Configuration: why the standard flag package".
type envFlags struct {
	fs       *flag.FlagSet
	getenv   func(string) string
	settings []*setting
}

// setting is one flag with the variable and the file key that may also
// give its value, and where the value it has came from.
type setting struct {
	name string
	env  string
	// want says what a value must look like, for errors.
	want string
	// secret is the value of a setting --print-config masks.
	secret *string
	// fromFile is false for --config itself.
	fromFile bool
	source   string
}

func (e *envFlags) add(name, env, want string) *setting {
	s := &setting{name: name, env: env, want: want, fromFile: true, source: "default"}
	e.settings = append(e.settings, s)
	return s
}

func (e *envFlags) string(p *string, name, env, def, help string) {
	e.add(name, env, "")
	e.fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

// secret is string but never shows the value: not in --help, and masked in
// --print-config (a database URL may carry a password).
func (e *envFlags) secret(p *string, name, env, help string) {
	e.add(name, env, "").secret = p
	e.fs.Var(hiddenString{p}, name, fmt.Sprintf("%s (env %s)", help, env))
}

// hiddenString is a flag.Value whose String is always empty, so the flag
// package prints no default for it.
type hiddenString struct{ p *string }

func (h hiddenString) String() string     { return "" }
func (h hiddenString) Set(v string) error { *h.p = v; return nil }

func (e *envFlags) duration(p *time.Duration, name, env string, def time.Duration, help string) {
	e.add(name, env, "a duration such as 90s, 5m or 24h")
	e.fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

func (e *envFlags) int(p *int, name, env string, def int, help string) {
	e.add(name, env, "an integer")
	e.fs.IntVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

func (e *envFlags) bool(p *bool, name, env string, def bool, help string) {
	e.add(name, env, "true or false")
	e.fs.BoolVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

// set gives s a value from source, saying what was wrong with it.
func (e *envFlags) set(s *setting, value, source string) error {
	if err := e.fs.Set(s.name, value); err != nil {
		if s.want != "" {
			return fmt.Errorf("%s: --%s wants %s, not %q", source, s.name, s.want, value)
		}
		return fmt.Errorf("%s: --%s: %v", source, s.name, err)
	}
	s.source = source
	return nil
}

// parse reads the command line, then the environment for what it did not
// set, then the --config file (named by the flag or FLEXD_CONFIG) for what
// neither set. Every fault is a usage error.
func (e *envFlags) parse(args []string, configFile *string) error {
	if err := e.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if e.fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, e.fs.Args())
	}
	given := map[string]bool{}
	e.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, s := range e.settings {
		if given[s.name] {
			s.source = "flag"
			continue
		}
		if v := e.getenv(s.env); v != "" {
			if err := e.set(s, v, "env "+s.env); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 && *configFile != "" {
		errs = e.readFile(*configFile)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %v", errUsage, errors.Join(errs...))
	}
	return nil
}

// readFile applies a config file: one YAML mapping of flag names to
// values, e.g. `listen: 0.0.0.0:8080` and `snapshot-interval: 1h`. A key
// that is no flag, a value that is no single value, or one the flag does
// not take is an error naming the file, line and key.
func (e *envFlags) readFile(path string) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("--config: %v", err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return []error{fmt.Errorf("%s: %v", path, err)}
	}
	if err := dec.Decode(&next); err == nil {
		return []error{fmt.Errorf("%s:%d: a second YAML document: a config file is one mapping", path, next.Line)}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("%s:%d: want a mapping of flag names to values, e.g. \"listen: 127.0.0.1:8080\"", path, root.Line)}
	}
	var errs []error
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		at := fmt.Sprintf("%s:%d", path, k.Line)
		key := k.Value
		if line, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("%s: key %q is already given on line %d", at, key, line))
			continue
		}
		seen[key] = k.Line
		i := slices.IndexFunc(e.settings, func(s *setting) bool { return s.name == key && s.fromFile })
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s: unknown key %q: keys are the names of flexd serve's flags (flexd serve --help)", at, key))
			continue
		}
		s := e.settings[i]
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			errs = append(errs, fmt.Errorf("%s: key %q wants one value (write \"\" for an empty one)", at, key))
			continue
		}
		if s.source != "default" {
			continue // the flag or the variable wins
		}
		if err := e.set(s, v.Value, fmt.Sprintf("%s:%d", path, v.Line)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// explain adds to a fault that names flags where their values came from
// when that was not the command line: a variable, or a file and line.
func (e *envFlags) explain(err error) error {
	var from []string
	for _, s := range e.settings {
		if s.source == "default" || s.source == "flag" {
			continue
		}
		if regexp.MustCompile(`--` + regexp.QuoteMeta(s.name) + `\b([^-]|$)`).MatchString(err.Error()) {
			from = append(from, "--"+s.name+" from "+s.source)
		}
	}
	if len(from) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(from, ", "))
}

// envOnly are the settings read from the environment alone: credentials
// and keys, which flags would show in the process list. --print-config
// says whether each is set, and shows only the public ones.
var envOnly = []struct {
	name   string
	public bool
}{
	{"FLEXD_SECRET_KEY", false},
	{"FLEXD_ADMIN_PUBLIC_KEY", true},
	{"FLEXD_ADMIN_PRIVATE_KEY", false},
	{"FLEXD_ADMIN_CLIENT_ID", true},
	{"FLEXD_ADMIN_CLIENT_SECRET", false},
}

// printConfig writes the effective configuration as a config file, each
// value with where it came from; secrets are masked.
func (e *envFlags) printConfig(w io.Writer, configFile string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# flexd serve: effective configuration (a flag wins over the environment, the environment over --config, --config over the default)\n")
	if configFile != "" {
		fmt.Fprintf(&b, "# config file: %s\n", configFile)
	}
	width := 0
	lines := make([]string, 0, len(e.settings))
	for _, s := range e.settings {
		if !s.fromFile {
			lines = append(lines, "")
			continue
		}
		v := e.fs.Lookup(s.name).Value.String()
		switch {
		case s.secret != nil:
			v = yamlScalar(maskDatabaseURL(*s.secret))
		case s.want == "": // a string: quoted where YAML needs it
			v = yamlScalar(v)
		}
		line := s.name + ": " + v
		width = max(width, len(line))
		lines = append(lines, line)
	}
	for i, s := range e.settings {
		if lines[i] != "" {
			fmt.Fprintf(&b, "%-*s  # %s\n", width, lines[i], s.source)
		}
	}
	fmt.Fprintf(&b, "# environment only:\n")
	for _, v := range envOnly {
		shown := "(not set)"
		if x := e.getenv(v.name); x != "" {
			shown = "(set, hidden)"
			if v.public {
				shown = x
			}
		}
		fmt.Fprintf(&b, "#   %s: %s\n", v.name, shown)
	}
	_, _ = w.Write(b.Bytes())
}

// yamlScalar is v as YAML writes a string, quoted where it must be.
func yamlScalar(v string) string {
	out, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", v)
	}
	return strings.TrimSuffix(string(out), "\n")
}

const masked = "xxxxx"

var keywordPassword = regexp.MustCompile(`(?i)\b(password|sslpassword|sslkey)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// maskDatabaseURL hides the password of a PostgreSQL URL or key=value
// connection string, and every part of one it cannot read.
func maskDatabaseURL(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		return keywordPassword.ReplaceAllString(s, "${1}="+masked)
	}
	u, err := url.Parse(s)
	if err != nil {
		return masked + " (not a URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), masked)
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q.Set(k, masked)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
