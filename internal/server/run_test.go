package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/jobs"
)

// syncBuffer collects the server's log lines while run writes them.
type syncBuffer = testkit.SyncBuffer

// started is a flexd started in-process by run.
type started struct {
	base   string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// start runs `flexd serve` on a random port and waits until /readyz answers.
func start(t *testing.T, dataDir string, extraEnv map[string]string) *started {
	t.Helper()
	s := launch(t, dataDir, extraEnv)
	s.awaitReady(t)
	return s
}

// launch runs `flexd serve` on a random port without waiting for it, so
// that a test can start several at the same moment.
func launch(t *testing.T, dataDir string, extraEnv map[string]string) *started {
	t.Helper()
	// Open access unless a test asks for authentication (auth_test.go
	// does): these tests are about serving, not about credentials.
	env := map[string]string{"FLEXD_LOG_FORMAT": "json", "FLEXD_LISTEN": "127.0.0.1:0", "FLEXD_DATA_DIR": dataDir, "FLEXD_AUTH": "off"}
	for k, v := range extraEnv {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	s := &started{logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- Run(ctx, []string{"flexd", "serve"}, func(k string) string { return env[k] }, io.Discard, logs)
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// awaitReady waits until s logged its address and /readyz answers 200.
func (s *started) awaitReady(t *testing.T) {
	t.Helper()
	logs := s.logs
	deadline := time.Now().Add(20 * time.Second)
	for s.base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("flexd did not log its address; logs:\n%s", logs.String())
		}
		select {
		case err := <-s.done:
			s.cancel, s.done = nil, nil // nothing left to stop
			t.Fatalf("flexd exited early: %v; logs:\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "flexd listening" {
				s.base = "http://" + line.Addr
			}
		}
	}
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("flexd not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *started) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("flexd stopped with error: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("flexd did not stop within 30s")
	}
}

const accept = testkit.AcceptFlex

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req := testkit.Request(t, method, url, body, "")
	if body != "" {
		req.Header.Set("Content-Type", accept)
	}
	res := testkit.Do(t, req)
	m, err := res.Object()
	if err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, url, res.Body)
	}
	return res.Status, m
}

func TestServeKeepsDataAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil)
	code, body := do(t, "GET", s.base+"/healthz", "")
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, body)
	}
	code, project := do(t, "POST", s.base+"/api/atlas/v2/groups", `{"name":"restart-proof"}`)
	if code != 201 {
		t.Fatalf("create project = %d %v", code, project)
	}
	gid := project["id"].(string)
	code, cluster := do(t, "POST", s.base+"/api/atlas/v2/groups/"+gid+"/flexClusters",
		`{"name":"c1","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	if code != 201 {
		t.Fatalf("create cluster = %d %v", code, cluster)
	}
	s.stop(t)
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", s.logs.String())
	}

	s2 := start(t, dir, nil)
	code, got := do(t, "GET", s2.base+"/api/atlas/v2/groups/"+gid+"/flexClusters/c1", "")
	if code != 200 || got["id"] != cluster["id"] || got["name"] != "c1" {
		t.Fatalf("after restart: %d %v, want cluster %v", code, got, cluster["id"])
	}
}

func TestServeLogsRequestsWithoutSecrets(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	req, _ := http.NewRequest("GET", s.base+"/api/atlas/v2/groups?pretty=true", nil)
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer super-secret-token-value")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rid := resp.Header.Get("X-Request-Id")
	if rid == "" {
		t.Fatal("no X-Request-Id header")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logs.String(), rid) {
		if time.Now().After(deadline) {
			t.Fatalf("request id %s not logged:\n%s", rid, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var found map[string]any
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, rid) {
			_ = json.Unmarshal([]byte(line), &found)
		}
	}
	for _, k := range []string{"method", "path", "status", "duration"} {
		if _, ok := found[k]; !ok {
			t.Errorf("request log lacks %q: %v", k, found)
		}
	}
	if strings.Contains(s.logs.String(), "super-secret-token-value") {
		t.Error("a credential reached the logs")
	}
}

// TestGracefulShutdownFinishesInFlightRequests cancels the server while a
// request's body is still arriving: the request must still be answered.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.base+"/api/atlas/v2/groups", pr)
	req.Header.Set("Accept", accept)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		code int
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- result{err: err}
			return
		}
		resp.Body.Close()
		resc <- result{code: resp.StatusCode}
	}()
	if _, err := pw.Write([]byte(`{"name":`)); err != nil {
		t.Fatal(err)
	}
	// Order the events by observing them, not by sleeping: the request is
	// in a handler (the in-flight gauge counts it), then shutdown has begun
	// (the listener refuses new connections) while the body is unfinished.
	awaitUntil(t, "the request to be in flight", func() bool { return inFlight(t, s.base) == 1 })
	addr := strings.TrimPrefix(s.base, "http://")
	s.cancel()
	s.cancel = nil
	awaitUntil(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if _, err := pw.Write([]byte(`"in-flight"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-resc
	if r.err != nil || r.code != 201 {
		t.Fatalf("in-flight request: code %d err %v", r.code, r.err)
	}
	if err := <-s.done; err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// awaitUntil polls cond until it holds, failing the test after 10 s.
func awaitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, 10*time.Second, cond)
}

// inFlight reads flexd_http_requests_in_flight from GET /metrics.
func inFlight(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flexd_http_requests_in_flight "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("in-flight gauge %q", v)
			}
			return n
		}
	}
	t.Fatal("GET /metrics has no flexd_http_requests_in_flight")
	return 0
}

func TestCommandLine(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"flexd", "version"}, env(nil), &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "flexd ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	out.Reset()
	if err := Run(context.Background(), []string{"flexd", "serve", "--help"}, env(nil), &out, &errOut); err != nil {
		t.Errorf("serve --help: %v", err)
	}
	for _, f := range []string{"--listen", "FLEXD_LISTEN", "--data-dir", "FLEXD_DATA_DIR", "--log-format", "--public-url"} {
		if !strings.Contains(errOut.String(), strings.TrimPrefix(f, "-")) {
			t.Errorf("serve --help does not explain %s:\n%s", f, errOut.String())
		}
	}
	for _, args := range [][]string{{"flexd"}, {"flexd", "nope"}, {"flexd", "serve", "--no-such-flag"}, {"flexd", "serve", "extra"}} {
		if err := Run(context.Background(), args, env(nil), io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	if err := Run(context.Background(), []string{"flexd", "serve"}, env(map[string]string{"FLEXD_LOG_FORMAT": "xml"}), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("bad FLEXD_LOG_FORMAT: %v", err)
	}
	c, err := parseServeFlags([]string{"--listen", "127.0.0.1:9999"}, env(map[string]string{"FLEXD_LISTEN": "127.0.0.1:1111", "FLEXD_DATA_DIR": "/tmp/x"}), io.Discard)
	if err != nil || c.listen != "127.0.0.1:9999" || c.dataDir != "/tmp/x" {
		t.Errorf("flag over env: %+v %v", c, err)
	}
}

// TestZeroDownloadTTL: a zero --download-ttl is honoured, not defaulted, so
// users can rehearse what their runbook does with an expired link.
func TestZeroDownloadTTL(t *testing.T) {
	s := start(t, t.TempDir(), map[string]string{"FLEXD_DOWNLOAD_TTL": "0", "FLEXD_PROVISION_TIME": "0"})
	_, project := do(t, "POST", s.base+"/api/atlas/v2/groups", `{"name":"ttl"}`)
	cluster := s.base + "/api/atlas/v2/groups/" + project["id"].(string) + "/flexClusters/c1"
	do(t, "POST", s.base+"/api/atlas/v2/groups/"+project["id"].(string)+"/flexClusters",
		`{"name":"c1","providerSettings":{"backingProviderName":"GCP","regionName":"CENTRAL_US"}}`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		// A snapshot of a cluster still CREATING is refused.
		if _, c := do(t, "GET", cluster, ""); c["stateName"] == "IDLE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cluster not IDLE after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, snap := do(t, "POST", strings.Replace(cluster, "/api/atlas/v2/", "/_flexd/", 1)+"/snapshots", "")
	if code != 201 {
		t.Fatalf("take snapshot = %d %v", code, snap)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, got := do(t, "GET", cluster+"/backup/snapshots/"+snap["id"].(string), "")
		if got["status"] == "COMPLETED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot never completed: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, job := do(t, "POST", cluster+"/backup/download", `{"snapshotId":"`+snap["id"].(string)+`"}`)
	if code != 200 || job["expirationDate"] != job["restoreScheduledDate"] {
		t.Fatalf("download = %d %v, want a link expiring as it is made", code, job)
	}
	resp, err := http.Get(job["snapshotUrl"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("zero-TTL link answered %d, want 410", resp.StatusCode)
	}
}

func TestAPIRateLimitsFlag(t *testing.T) {
	for mode, wantLimit := range map[string]string{"": "300", "report": "300", "enforce": "300", "off": ""} {
		s := start(t, t.TempDir(), map[string]string{"FLEXD_API_RATE_LIMITS": mode})
		code, h := get(t, s.base, "/api/atlas/v2/orgs", "")
		if code != 200 || h.Get("Ratelimit-Limit") != wantLimit || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%q: %d Ratelimit-Limit %q X-Frame-Options %q", mode, code, h.Get("Ratelimit-Limit"), h.Get("X-Frame-Options"))
		}
		s.stop(t)
	}
	env := map[string]string{"FLEXD_API_RATE_LIMITS": "sometimes", "FLEXD_DATA_DIR": t.TempDir(), "FLEXD_LISTEN": "127.0.0.1:0"}
	err := Run(context.Background(), []string{"flexd", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if !errors.Is(err, errUsage) {
		t.Errorf("a bad mode: %v, want a usage error", err)
	}
	var help strings.Builder
	_ = Run(context.Background(), []string{"flexd", "serve", "--help"}, func(string) string { return "" }, io.Discard, &help)
	if !strings.Contains(help.String(), "-api-rate-limits") || !strings.Contains(help.String(), "FLEXD_API_RATE_LIMITS") {
		t.Errorf("serve --help does not mention --api-rate-limits")
	}
}

// TestDataJobTimeoutFlag: --data-job-timeout (FLEXD_DATA_JOB_TIMEOUT) sets
// how long a snapshot or restore may run; the default is the engine's, and
// a value under a second is a usage error.
func TestDataJobTimeoutFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := parseServeFlags(nil, env(nil), io.Discard)
	if err != nil || c.lifecycle.dataJobTimeout != jobs.DefaultDataTimeout {
		t.Errorf("default: %v %v", c.lifecycle.dataJobTimeout, err)
	}
	c, err = parseServeFlags(nil, env(map[string]string{"FLEXD_DATA_JOB_TIMEOUT": "45m"}), io.Discard)
	if err != nil || c.lifecycle.dataJobTimeout != 45*time.Minute {
		t.Errorf("FLEXD_DATA_JOB_TIMEOUT=45m: %v %v", c.lifecycle.dataJobTimeout, err)
	}
	c, err = parseServeFlags([]string{"--data-job-timeout", "2h"}, env(map[string]string{"FLEXD_DATA_JOB_TIMEOUT": "45m"}), io.Discard)
	if err != nil || c.lifecycle.dataJobTimeout != 2*time.Hour {
		t.Errorf("--data-job-timeout 2h over the env: %v %v", c.lifecycle.dataJobTimeout, err)
	}
	if _, err := parseServeFlags([]string{"--data-job-timeout", "0s"}, env(nil), io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("--data-job-timeout 0s: %v, want a usage error", err)
	}
}
