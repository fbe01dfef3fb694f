package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/sqlite"
)

// TestCrashDuringRestores runs flexd as a real process, starts many
// restores, kills it with SIGKILL while they run, restarts it on the same
// data directory, and checks that every job ends, every cluster settles,
// no restore was applied twice, and every target holds exactly the
// snapshot's data (documents byte for byte, indexes), never a mixture.
func TestCrashDuringRestores(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the flexd binary")
	}
	bin := flexdBinary(t)
	dataDir := t.TempDir()

	p := startProcess(t, bin, dataDir)
	g := p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"crash"}`)["id"].(string)
	p.must(201, "POST", "/api/atlas/v2/groups/"+g+"/databaseUsers", dbUserBody)
	clusters := "/api/atlas/v2/groups/" + g + "/flexClusters"
	targets := []string{"t1", "t2", "t3", "t4"}
	for _, name := range append([]string{"src"}, targets...) {
		p.must(201, "POST", clusters, `{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	}
	p.waitFor(t, "clusters IDLE", func() bool { return p.allIdle(clusters) })
	uri := func(p *process, name string) string {
		return p.must(200, "GET", clusters+"/"+name, "")["connectionStrings"].(map[string]any)["standard"].(string)
	}
	src := connect(t, uri(p, "src"))
	seedData(t, src, "app", 2000)
	want := dump(t, src)
	for _, tg := range targets {
		seedData(t, connect(t, uri(p, tg)), "old", 10)
	}
	snap := p.must(201, "POST", "/_flexd/groups/"+g+"/flexClusters/src/snapshots", "")["id"].(string)
	p.waitFor(t, "snapshot", func() bool {
		return p.must(200, "GET", clusters+"/src/backup/snapshots/"+snap, "")["status"] == "COMPLETED"
	})

	const perTarget = 4
	for range perTarget {
		for _, tg := range targets {
			p.must(200, "POST", clusters+"/src/backup/restoreJobs", `{"snapshotId":"`+snap+`","targetDeploymentItemName":"`+tg+`"}`)
		}
	}
	jobs := func(p *process) map[string]string {
		st := map[string]string{}
		for _, j := range p.must(200, "GET", clusters+"/src/backup/restoreJobs?itemsPerPage=500", "")["results"].([]any) {
			m := j.(map[string]any)
			st[m["id"].(string)] = m["status"].(string)
		}
		return st
	}
	// Kill it once some restores have ended and others have not.
	p.waitFor(t, "restores under way", func() bool {
		done := 0
		for _, s := range jobs(p) {
			if s == "COMPLETED" {
				done++
			}
		}
		return done >= len(targets)
	})
	before := jobs(p)
	for id, s := range before {
		if s == "FAILED" {
			t.Logf("FAILED before kill %s; logs:\n%s", id, p.logs.String())
		}
	}
	p.kill(t)

	p = startProcess(t, bin, dataDir)
	p.waitFor(t, "every job final", func() bool {
		for _, s := range jobs(p) {
			if s != "COMPLETED" && s != "FAILED" {
				return false
			}
		}
		return true
	})
	p.waitFor(t, "every cluster IDLE", func() bool { return p.allIdle(clusters) })
	after := jobs(p)
	unfinished := 0
	for id, s := range before {
		if s != "COMPLETED" {
			unfinished++
		}
		if after[id] != "COMPLETED" {
			t.Errorf("job %s: %s before the kill, %s after, want COMPLETED: %v", id, s, after[id], p.must(200, "GET", "/_flexd/groups/"+g+"/flexClusters/src/backup/restoreJobs/"+id, ""))
		}
	}
	if len(after) != perTarget*len(targets) || unfinished == 0 {
		t.Fatalf("%d jobs, %d unfinished at the kill", len(after), unfinished)
	}
	for _, tg := range targets {
		sameState(t, "target "+tg+" after the crash", dump(t, connect(t, uri(p, tg))), want)
	}
	p.terminate(t)

	// The store records each application once: its primary key refuses a
	// second, so a restore applied twice would have failed, not completed.
	store, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var applied, distinct int
	if err := store.DB().QueryRow("SELECT COUNT(*), COUNT(DISTINCT restore_job_id) FROM restore_applications").Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != len(after) || distinct != applied {
		t.Errorf("%d applications (%d distinct) for %d completed restores", applied, distinct, len(after))
	}
}

// process is a flexd started as a child process.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan struct{}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// flexdBinary builds the flexd binary once for the tests that run it as a
// process of its own.
func flexdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flexd-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "flexd")
		if out, err := exec.Command("go", "build", "-o", builtBin, "../../cmd/flexd").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func startProcess(t *testing.T, bin, dataDir string) *process {
	t.Helper()
	return startProcessWith(t, bin, []string{"--data-dir", dataDir, "--restore-time", "1s", "--cluster-ports", testClusterPorts()}, nil)
}

// startProcessWith starts `flexd serve` with args (after the common ones,
// so they win) and env added to the test's environment.
func startProcessWith(t *testing.T, bin string, args, env []string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json",
		"--provision-time", "0", "--snapshot-interval", "0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "FLEXD_CLOCK=real", "FLEXD_AUTH=off"), env...)
	return runProcess(t, cmd)
}

// runProcess starts cmd, a `flexd serve` that logs JSON, and waits until it
// logs its address.
func runProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(p.logs, sc.Text())
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "flexd listening" {
				once.Do(func() { addr <- line.Addr })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(t) })
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatalf("flexd exited early; logs:\n%s", p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("flexd did not start; logs:\n%s", p.logs.String())
	}
	return p
}

func (p *process) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) terminate(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("flexd did not stop on SIGTERM; logs:\n%s", p.logs.String())
	}
}

// must makes a call that must answer status, returning its JSON body.
func (p *process) must(status int, method, path, body string) map[string]any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := testkit.Request(p.t, method, p.base+path, body, "").WithContext(ctx)
	req.Header.Set("Accept", testkit.AcceptFor(path))
	res := testkit.Do(p.t, req)
	if res.Status != status {
		p.t.Fatalf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, status)
	}
	m, err := res.Object()
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	return m
}

func (p *process) allIdle(clusters string) bool {
	for _, c := range p.must(200, "GET", clusters, "")["results"].([]any) {
		if c.(map[string]any)["stateName"] != "IDLE" {
			return false
		}
	}
	return true
}

// waitFor polls cond with a deadline; the process works in the background.
func (p *process) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
