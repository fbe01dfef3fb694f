package server

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: what `go install …@v1.2.0`, a build in a git checkout and
// a stamped release build record is what flexd version prints; only a
// build without any of it says (devel).
func TestVersion(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/flexd/flexd", Version: "v1.2.0"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261130053710-839f24b61502+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "839f24b615026c3658fc1a1d1bad95ebb00e8a49"},
		{Key: "vcs.time", Value: "2026-11-30T05:37:10Z"}, {Key: "vcs.modified", Value: "true"}}}
	bare := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, c := range []struct {
		name                         string
		bi                           *debug.BuildInfo
		version, revision, buildDate string
		want                         []string
	}{
		{"go install", installed, "", "", "", []string{"flexd v1.2.0\n", "revision  unknown", "built     unknown"}},
		{"git checkout", checkout, "", "", "", []string{"flexd v0.0.0-20261130053710-839f24b61502+dirty\n",
			"revision  839f24b615026c3658fc1a1d1bad95ebb00e8a49 (with uncommitted changes)", "committed 2026-11-30T05:37:10Z"}},
		{"stamped", bare, "v1.3.0", "abc123", "2026-11-30T06:00:00Z", []string{"flexd v1.3.0\n", "revision  abc123\n", "built     2026-11-30T06:00:00Z"}},
		{"stamped over checkout", checkout, "v1.3.0", "", "2026-11-30T06:00:00Z", []string{"flexd v1.3.0\n", "revision  839f24b6"}},
		{"nothing", bare, "", "", "", []string{"flexd (devel)\n"}},
	} {
		var out bytes.Buffer
		aboutFrom(c.bi, c.version, c.revision, c.buildDate).print(&out)
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, out.String())
			}
		}
		if c.name != "nothing" && strings.Contains(out.String(), "devel") {
			t.Errorf("%s: a real build says devel:\n%s", c.name, out.String())
		}
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"flexd", "version"}, func(string) string { return "" }, &out, &out); err != nil || !strings.HasPrefix(out.String(), "flexd ") {
		t.Errorf("flexd version: %v %q", err, out.String())
	}
}

// TestHealthcheck: exit 0 while flexd answers /healthz, 1 when it does not
// answer or answers otherwise, and the default address is FLEXD_LISTEN's,
// through loopback when it listens on every interface.
func TestHealthcheck(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	check := func(getenv func(string) string, args ...string) error {
		return Run(context.Background(), append([]string{"flexd", "healthcheck"}, args...), getenv, &bytes.Buffer{}, &bytes.Buffer{})
	}
	if err := check(env(nil), "--url", s.base+"/healthz"); err != nil {
		t.Errorf("healthy flexd: %v", err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.base, "http://"))
	for _, listen := range []string{"0.0.0.0:" + port, ":" + port, "127.0.0.1:" + port} {
		if err := check(env(map[string]string{"FLEXD_LISTEN": listen})); err != nil {
			t.Errorf("FLEXD_LISTEN=%s: %v", listen, err)
		}
		if err := check(env(map[string]string{"FLEXD_LISTEN": listen}), "--ready"); err != nil {
			t.Errorf("FLEXD_LISTEN=%s --ready: %v", listen, err)
		}
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer failing.Close()
	if err := check(env(nil), "--url", failing.URL+"/readyz"); err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503: %v", err)
	}
	s.stop(t)
	if err := check(env(map[string]string{"FLEXD_HEALTHCHECK_URL": s.base + "/healthz"})); err == nil || ExitCode(err) != 1 {
		t.Errorf("stopped flexd: %v", err)
	}
	if err := check(env(map[string]string{"FLEXD_LISTEN": "nonsense"})); ExitCode(err) != 2 {
		t.Errorf("bad FLEXD_LISTEN: %v", err)
	}
}
