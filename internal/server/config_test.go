package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd/internal/testkit"
)

// writeConfig writes a config file into a test directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flexd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestConfigPrecedence: a flag wins over the environment, the environment
// over the --config file, the file over the default; each pair on its own
// setting, with where --print-config says each value came from.
func TestConfigPrecedence(t *testing.T) {
	file := writeConfig(t, `
listen: 127.0.0.1:3001          # file, also a flag
log-level: warn                 # file, also a variable
snapshot-interval: 2h           # file only
provision-time: 7s              # file, also a flag and a variable
`)
	env := map[string]string{
		"FLEXD_CONFIG":         file,
		"FLEXD_LOG_LEVEL":      "error",
		"FLEXD_PROVISION_TIME": "8s",
		"FLEXD_RESTORE_TIME":   "9s", // environment over default
		"FLEXD_DATA_DIR":       "/tmp/from-env",
	}
	args := []string{"--listen", "127.0.0.1:3002", "--provision-time", "6s", "--data-dir", "/tmp/from-flag"}
	c, cmd, err := parseServe(args, mapEnv(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, got, want string
	}{
		{"flag over file", c.listen, "127.0.0.1:3002"},
		{"flag over environment", c.dataDir, "/tmp/from-flag"},
		{"flag over environment and file", c.lifecycle.provisionTime.String(), "6s"},
		{"environment over file", c.logLevel, "error"},
		{"environment over default", c.lifecycle.restoreTime.String(), "9s"},
		{"file over default", c.lifecycle.snapshotInterval.String(), "2h0m0s"},
		{"default", c.logFormat, "text"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
		}
	}
	var out bytes.Buffer
	cmd.flags.printConfig(&out, cmd.configFile)
	for _, line := range []string{
		"listen: 127.0.0.1:3002", "# flag",
		"log-level: error", "# env FLEXD_LOG_LEVEL",
		"snapshot-interval: 2h0m0s", "# " + file + ":4",
		"log-format: text", "# default",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("--print-config lacks %q:\n%s", line, out.String())
		}
	}

	// The flag --config names the file too, and wins over FLEXD_CONFIG.
	other := writeConfig(t, "listen: 127.0.0.1:3003\n")
	c, _, err = parseServe([]string{"--config", other}, mapEnv(env), io.Discard)
	if err != nil || c.listen != "127.0.0.1:3003" || c.lifecycle.snapshotInterval != 24*time.Hour {
		t.Errorf("--config over FLEXD_CONFIG: %+v %v", c, err)
	}
}

// TestConfigFileFaults: every fault in a config file is a usage error
// (exit 2) naming the file, the line and the key.
func TestConfigFileFaults(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"listen: 127.0.0.1:0\nlisen: 127.0.0.1:1\n", []string{":2:", `unknown key "lisen"`}},
		{"config: other.yaml\n", []string{":1:", `unknown key "config"`}},
		{"metrics: sometimes\n", []string{":1:", "--metrics wants true or false", `"sometimes"`}},
		{"snapshot-interval: daily\n", []string{":1:", "--snapshot-interval wants a duration"}},
		{"max-connections: [1, 2]\n", []string{":1:", `"max-connections" wants one value`}},
		{"pprof:\n", []string{":1:", `"pprof" wants one value`}},
		{"listen: a\nlisten: b\n", []string{":2:", `"listen" is already given on line 1`}},
		{"- listen\n", []string{":1:", "want a mapping"}},
		{"listen: a\n---\nlisten: b\n", []string{":2:", "a second YAML document"}},
		{"listen: [\n", []string{"yaml"}},
		{"log-format: xml\n", []string{"--log-format must be text or json", "--log-format from", ":1"}},
		{"auth: maybe\nauth-failure-limit: 3\n", []string{"--auth must be on or off", "(--auth from", ":1)"}},
	} {
		file := writeConfig(t, tc.text)
		_, err := parseServeFlags([]string{"--config", file}, mapEnv(nil), io.Discard)
		if !errors.Is(err, errUsage) || ExitCode(err) != 2 {
			t.Errorf("%q: err = %v, want a usage error", tc.text, err)
			continue
		}
		for _, w := range append(tc.want, file) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", tc.text, err, w)
			}
		}
	}
	_, err := parseServeFlags([]string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, mapEnv(nil), io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing file: %v", err)
	}
	// An environment variable's fault is named by the variable, as before.
	_, err = parseServeFlags(nil, mapEnv(map[string]string{"FLEXD_METRICS": "maybe"}), io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "FLEXD_METRICS") {
		t.Errorf("a bad variable: %v", err)
	}
	// A start from Go (Start, flexdtest's WithArgs) takes --config, not
	// --print-config.
	if _, err := parseServeFlags([]string{"--print-config"}, mapEnv(nil), io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("--print-config in a start from Go: %v", err)
	}
	// An empty file sets nothing.
	c, err := parseServeFlags([]string{"--config", writeConfig(t, "# nothing yet\n")}, mapEnv(nil), io.Discard)
	if err != nil || c.listen != "127.0.0.1:8080" {
		t.Errorf("an empty file: %+v %v", c, err)
	}
}

// TestPrintConfigMasksSecrets: --print-config shows every setting, and no
// password or key, whichever way it was given.
func TestPrintConfigMasksSecrets(t *testing.T) {
	const (
		dbPassword   = "db-pa55word-in-url"
		queryPass    = "qu3ry-pa55word"
		secretKey    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		privateKey   = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
		clientSecret = "mdb_sa_sk_never-to-be-printed"
	)
	env := map[string]string{
		"FLEXD_SECRET_KEY":          secretKey,
		"FLEXD_ADMIN_PUBLIC_KEY":    "ciadmina",
		"FLEXD_ADMIN_PRIVATE_KEY":   privateKey,
		"FLEXD_ADMIN_CLIENT_SECRET": clientSecret,
	}
	for _, url := range []string{
		"postgres://flexd:" + dbPassword + "@db.internal:5432/flexd?sslmode=require&password=" + queryPass,
		"host=db.internal user=flexd password=" + dbPassword + " dbname=flexd",
		"host=db.internal user=flexd password='" + dbPassword + " x' dbname=flexd",
	} {
		file := writeConfig(t, "postgres-url: "+yamlScalar(url)+"\n")
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), []string{"flexd", "serve", "--config", file, "--print-config"}, mapEnv(env), &out, &errOut); err != nil {
			t.Fatalf("%v: %s", err, errOut.String())
		}
		text := out.String()
		for _, secret := range []string{dbPassword, queryPass, secretKey, privateKey, clientSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("--print-config shows %q:\n%s", secret, text)
			}
		}
		for _, want := range []string{"db.internal", "xxxxx", "ciadmina", "FLEXD_SECRET_KEY: (set, hidden)", "FLEXD_ADMIN_PRIVATE_KEY: (set, hidden)", "listen: 127.0.0.1:8080"} {
			if !strings.Contains(text, want) {
				t.Errorf("--print-config lacks %q:\n%s", want, text)
			}
		}
	}
	// What it prints is itself a config file flexd reads (secrets aside).
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"flexd", "serve", "--print-config", "--listen", "127.0.0.1:4444", "--public-url", "http://x: y"}, mapEnv(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := parseServeFlags([]string{"--config", writeConfig(t, out.String())}, mapEnv(nil), io.Discard)
	if err != nil || c.listen != "127.0.0.1:4444" || c.publicURL != "http://x: y" {
		t.Errorf("--print-config's output read back: %+v %v", c, err)
	}
}

// TestConfigFileStart runs the real binary as `flexd serve --config FILE`,
// with nothing else on its command line or in its environment, and asks
// it /healthz and what the file turned off.
func TestConfigFileStart(t *testing.T) {
	bin := flexdBinary(t)
	dir := t.TempDir()
	file := writeConfig(t, `# flexd serve --config: every flag's name is a key
listen: 127.0.0.1:0
data-dir: `+filepath.Join(dir, "data")+`
log-format: json
auth: "off"
metrics: false
api-rate-limits: "off"
cluster-ports: `+testClusterPorts()+`
`)
	cmd := exec.Command(bin, "serve", "--config", file)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FLEXD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := runProcess(t, cmd)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 404} {
		resp, err := http.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	req, _ := http.NewRequest("GET", p.base+"/api/atlas/v2/orgs", nil)
	req.Header.Set("Accept", testkit.AcceptFor("/api/atlas/v2/orgs"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Ratelimit-Limit") != "" {
		t.Errorf("GET /orgs with auth and API budgets off: %d, Ratelimit-Limit %q", resp.StatusCode, resp.Header.Get("Ratelimit-Limit"))
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "flexd.db")); err != nil {
		t.Errorf("data-dir from the file not used: %v", err)
	}
	p.terminate(t)
}

// TestCompletion runs the bash completion script in bash: commands, the
// flags of each (read from its --help) and the words a flag takes.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("no bash to run the completion script in: .ci/run itself needs bash")
	}
	var script bytes.Buffer
	if err := Run(context.Background(), []string{"flexd", "completion", "bash"}, mapEnv(nil), &script, io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flexd.bash")
	if err := os.WriteFile(file, script.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"flexd he":                        "healthcheck help",
		"flexd serve --log-f":             "--log-format",
		"flexd serve --print":             "--print-config",
		"flexd serve -log-format ''":      "text json",
		"flexd serve --api-rate-limits e": "enforce",
		"flexd drill --max-r":             "--max-rpo --max-rto",
		"flexd healthcheck --r":           "--ready",
		"flexd completion ''":             "bash zsh fish",
	} {
		cmd := exec.Command(bash, "-c", `source "$1"; COMP_WORDS=(`+line+`); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _flexd; echo "${COMPREPLY[*]}"`, "-", file)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s<TAB>: %q %v, want %q", line, out, err, want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		var out bytes.Buffer
		if err := Run(context.Background(), []string{"flexd", "completion", shell}, mapEnv(nil), &out, io.Discard); err != nil || !strings.Contains(out.String(), "print-config") {
			t.Errorf("completion %s: %v\n%s", shell, err, out.String())
		}
	}
	if err := Run(context.Background(), []string{"flexd", "completion", "tcsh"}, mapEnv(nil), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("completion tcsh: %v, want a usage error", err)
	}
}
