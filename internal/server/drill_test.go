package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/drill"
)

const (
	drillPublic   = "drillkey"
	drillPrivate  = "drill-private-key"
	drillClientID = "mdb_sa_id_0123456789abcdef0123d711"
	drillSecret   = "mdb_sa_sk_drill"
)

// drillWorld is a flexd on a manual clock with a project, a source
// cluster with two snapshots an hour apart (the newer one an hour old) and
// a target cluster: RPOs are then exact.
type drillWorld struct {
	*started
	project      string
	older, newer string // snapshot ids
	admin        caller
	env          map[string]string // the drill's environment (API key)
}

func newDrillWorld(t *testing.T, extra map[string]string) *drillWorld {
	t.Helper()
	env := map[string]string{"FLEXD_AUTH": "on", "FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_RESTORE_TIME": "0", "FLEXD_SNAPSHOT_INTERVAL": "0",
		"FLEXD_ADMIN_PUBLIC_KEY": drillPublic, "FLEXD_ADMIN_PRIVATE_KEY": drillPrivate,
		"FLEXD_ADMIN_CLIENT_ID": drillClientID, "FLEXD_ADMIN_CLIENT_SECRET": drillSecret}
	for k, v := range extra {
		env[k] = v
	}
	s := start(t, t.TempDir(), env)
	w := &drillWorld{started: s, admin: digestCaller(drillPublic, drillPrivate),
		env: map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": drillPublic, "MONGODB_ATLAS_PRIVATE_API_KEY": drillPrivate}}

	// The setup a user's pipeline would do, with the same SDK.
	ctx := context.Background()
	api, err := admin.NewClient(admin.UseBaseURL(s.base), admin.UseDigestAuth(drillPublic, drillPrivate))
	if err != nil {
		t.Fatal(err)
	}
	orgs, _, err := api.OrganizationsApi.ListOrganizations(ctx).Execute()
	if err != nil || len(orgs.GetResults()) == 0 {
		t.Fatalf("list orgs: %v", err)
	}
	g, _, err := api.ProjectsApi.CreateProject(ctx, &admin.Group{Name: "drills", OrgId: orgs.GetResults()[0].GetId()}).Execute()
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	w.project = g.GetId()
	for _, name := range []string{"src", "dst"} {
		_, _, err := api.FlexClustersApi.CreateFlexCluster(ctx, w.project, &admin.FlexClusterDescriptionCreate20241113{
			Name: name, ProviderSettings: admin.FlexProviderSettingsCreate20241113{BackingProviderName: "AWS", RegionName: "US_EAST_1"},
		}).Execute()
		if err != nil {
			t.Fatalf("create cluster %s: %v", name, err)
		}
	}
	// A pipeline waits for IDLE before it snapshots: a CREATING cluster
	// has nothing to capture yet, and flexd refuses the drill snapshot.
	for _, name := range []string{"src", "dst"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, _, err := api.FlexClustersApi.GetFlexCluster(ctx, w.project, name).Execute()
			if err == nil && c.GetStateName() == "IDLE" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster %s never IDLE: %v", name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	w.older = w.snapshot(t)
	w.advance(t, "1h")
	w.newer = w.snapshot(t)
	w.advance(t, "1h")
	return w
}

func (w *drillWorld) snapshot(t *testing.T) string {
	t.Helper()
	code, body := w.admin(t, w.base, "POST", "/_flexd/groups/"+w.project+"/flexClusters/src/snapshots", "")
	if code != 201 {
		t.Fatalf("take snapshot: %d %v", code, body)
	}
	return body["id"].(string)
}

func (w *drillWorld) advance(t *testing.T, by string) {
	t.Helper()
	if code, body := w.admin(t, w.base, "POST", "/_flexd/clock:advance", `{"by":"`+by+`"}`); code != 200 {
		t.Fatalf("advance the clock: %d %v", code, body)
	}
}

// drill runs `flexd drill` against w as a CI job would.
func (w *drillWorld) drill(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"flexd", "drill", "--base-url", w.base, "--project", w.project,
		"--source", "src", "--target", "dst", "--poll-interval", "10ms"}, args...)
	err = Run(context.Background(), full, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// report is flexd's own report of the job.
func (w *drillWorld) report(t *testing.T, jobID string) flexd.RestoreReport {
	t.Helper()
	code, body := w.admin(t, w.base, "GET", "/_flexd/groups/"+w.project+"/flexClusters/src/backup/restoreJobs/"+jobID+"/report", "")
	if code != 200 {
		t.Fatalf("report: %d %v", code, body)
	}
	raw, _ := json.Marshal(body)
	var r flexd.RestoreReport
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
		SystemOut string `xml:"system-out"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d junitDoc
	if err := xml.Unmarshal(data, &d); err != nil || len(d.Suites) != 1 {
		t.Fatalf("JUnit XML: %v\n%s", err, data)
	}
	return d
}

// caseVerdicts is each test case's outcome by name: "pass", "skip", the
// failure message or "error: " and the error's.
func (d junitDoc) caseVerdicts() map[string]string {
	out := map[string]string{}
	for _, c := range d.Suites[0].Cases {
		switch {
		case c.Failure != nil:
			out[c.Name] = c.Failure.Message
		case c.Error != nil:
			out[c.Name] = "error: " + c.Error.Message
		case c.Skipped != nil:
			out[c.Name] = "skip"
		default:
			out[c.Name] = "pass"
		}
	}
	return out
}

// TestDrillPasses: the newest snapshot, an hour old, restores within the
// thresholds: text on stdout, progress lines on stderr (not a terminal),
// JUnit with every case passed, and the report agrees with flexd's own.
func TestDrillPasses(t *testing.T) {
	w := newDrillWorld(t, nil)
	junit := filepath.Join(t.TempDir(), "drill.xml")
	out, progress, err := w.drill(t, w.env, "--max-rto", "1m", "--max-rpo", "90m", "--junit", junit)
	if err != nil {
		t.Fatalf("drill: %v\nstdout:\n%s\nstderr:\n%s", err, out, progress)
	}
	for _, want := range []string{"Restore drill PASSED", "snapshot " + w.newer, "status COMPLETED",
		"RPO 1h0m0s (max 1h30m0s)", "RTO 0s (max 1m0s)", "Status changes (observed):", "Data check SKIPPED: no --db-user given"} {
		if !strings.Contains(squash(out), want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(progress, "restore job COMPLETED") || strings.Contains(progress, "\r") {
		t.Errorf("progress on a non-terminal should be plain lines:\n%q", progress)
	}
	d := readJUnit(t, junit)
	if d.Tests != 4 || d.Failures != 0 || d.Errors != 0 {
		t.Errorf("JUnit totals %+v", d)
	}
	v := d.caseVerdicts()
	if v["restore completes"] != "pass" || v["RTO within --max-rto"] != "pass" || v["RPO within --max-rpo"] != "pass" ||
		v["data matches the snapshot"] != "skip" {
		t.Errorf("JUnit cases %v", v)
	}
	props := map[string]string{}
	for _, p := range d.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	if props["rpoSeconds"] != "3600.000" || props["snapshotId"] != w.newer || props["restoreJobId"] == "" {
		t.Errorf("JUnit properties %v", props)
	}
	if !strings.Contains(d.Suites[0].SystemOut, "Restore drill PASSED") {
		t.Errorf("JUnit system-out %q", d.Suites[0].SystemOut)
	}

	// The same restore, as flexd reports it.
	r := w.report(t, props["restoreJobId"])
	if rpo, ok := r.RPO(); !ok || rpo.String() != "1h0m0s" || r.Status != flexd.StatusCompleted || r.SnapshotID != w.newer {
		t.Errorf("flexd's report %+v", r)
	}
}

// TestDrillMissesRPO: the older snapshot is two hours old, over --max-rpo:
// the JSON says why, and the exit status is 1.
func TestDrillMissesRPO(t *testing.T) {
	w := newDrillWorld(t, nil)
	junit := filepath.Join(t.TempDir(), "drill.xml")
	out, _, err := w.drill(t, w.env, "--snapshot", w.older, "--json", "--max-rpo", "90m", "--junit", junit, "--progress=false")
	var failed *drill.FailedError
	if !errors.As(err, &failed) || ExitCode(err) != 1 {
		t.Fatalf("drill err %v (exit %d), want a failed drill (exit 1)", err, ExitCode(err))
	}
	var res drill.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	rpo, ok := res.RPO()
	if res.Passed || !ok || rpo.Hours() != 2 || res.SnapshotID != w.older || res.Status != flexd.StatusCompleted ||
		len(res.Failures) != 1 || !strings.Contains(res.Failures[0], "RPO 2h0m0s exceeds --max-rpo 1h30m0s") ||
		res.StatusChangesSource != flexd.StatusesObserved || res.MaxRPOSeconds == nil || *res.MaxRPOSeconds != 5400 {
		t.Errorf("JSON result %s", out)
	}
	if n := len(res.StatusChanges); n == 0 || res.StatusChanges[n-1].Status != flexd.StatusCompleted {
		t.Errorf("status changes %+v", res.StatusChanges)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(out), &raw)
	if _, ok := raw["collections"]; ok || res.Data.Status != drill.DataSkipped {
		t.Errorf("collections reported without --db-user: %s", out)
	}
	// The drill's measures are flexd's: the same dates, the same spans.
	r := w.report(t, res.RestoreJobID)
	rto, _ := res.RTO()
	serverRTO, _ := r.RTO()
	serverRPO, _ := r.RPO()
	if !r.RequestedAt.Equal(res.RequestedAt) || !r.FinishedAt.Equal(res.FinishedAt) || serverRPO != rpo || serverRTO != rto {
		t.Errorf("flexd reports %+v, the drill %+v", r, res.RestoreReport)
	}
	v := readJUnit(t, junit).caseVerdicts()
	if v["restore completes"] != "pass" || v["RTO within --max-rto"] != "skip" || !strings.Contains(v["RPO within --max-rpo"], "exceeds") {
		t.Errorf("JUnit cases %v", v)
	}
}

// TestDrillRestoreFails: a restore that ends FAILED fails the drill, its
// JUnit case and the RTO threshold (no RTO without COMPLETED).
func TestDrillRestoreFails(t *testing.T) {
	w := newDrillWorld(t, nil)
	// A restore fault is injected on the cluster restored into.
	if code, body := w.admin(t, w.base, "POST", "/_flexd/groups/"+w.project+"/flexClusters/dst/faults",
		`{"operation":"restore","count":1,"reason":"disk full"}`); code/100 != 2 {
		t.Fatalf("inject fault: %d %v", code, body)
	}
	junit := filepath.Join(t.TempDir(), "drill.xml")
	out, _, err := w.drill(t, w.env, "--max-rto", "1m", "--junit", junit)
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "ended FAILED") {
		t.Fatalf("drill err %v, want a failed drill", err)
	}
	if !strings.Contains(out, "Restore drill FAILED") || !strings.Contains(squash(out), "status FAILED") {
		t.Errorf("text report:\n%s", out)
	}
	d := readJUnit(t, junit)
	v := d.caseVerdicts()
	if d.Failures != 2 || !strings.Contains(v["restore completes"], "FAILED") || !strings.Contains(v["RTO within --max-rto"], "unknown") ||
		v["RPO within --max-rpo"] != "skip" {
		t.Errorf("JUnit %+v cases %v", d, v)
	}
}

// TestDrillWithServiceAccount: the Atlas CLI's service-account variables
// work as its API-key ones do.
func TestDrillWithServiceAccount(t *testing.T) {
	w := newDrillWorld(t, nil)
	env := map[string]string{"MONGODB_ATLAS_CLIENT_ID": drillClientID, "MONGODB_ATLAS_CLIENT_SECRET": drillSecret}
	if out, _, err := w.drill(t, env, "--max-rpo", "90m"); err != nil || !strings.Contains(out, "PASSED") {
		t.Errorf("drill with a service account: %v\n%s", err, out)
	}
}

// TestDrillCannotRun: a bad command line exits 2; missing or wrong
// credentials and an unknown snapshot exit 1 and say what Atlas answered.
func TestDrillCannotRun(t *testing.T) {
	w := newDrillWorld(t, nil)
	for _, args := range [][]string{{"--target", "src"}, {"--poll-interval", "0"}, {"extra"}, {"--max-rto", "soon"}} {
		if _, _, err := w.drill(t, w.env, args...); ExitCode(err) != 2 {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"flexd", "drill", "--project", w.project, "--source", "src"}, func(string) string { return "" }, &out, &errOut); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--target") {
		t.Errorf("missing --target: %v", err)
	}
	if _, _, err := w.drill(t, nil); !errors.Is(err, drill.ErrNoCredentials) || ExitCode(err) != 1 {
		t.Errorf("no credentials: %v", err)
	}
	wrong := map[string]string{"MONGODB_ATLAS_PUBLIC_API_KEY": drillPublic, "MONGODB_ATLAS_PRIVATE_API_KEY": "wrong"}
	if out, _, err := w.drill(t, wrong); ExitCode(err) != 1 || !strings.Contains(err.Error(), "401") || !strings.Contains(out, "FAILED") {
		t.Errorf("wrong key: %v\n%s", err, out)
	}
	if _, _, err := w.drill(t, w.env, "--snapshot", "5f0c2a1b3c4d5e6f7a8b9c0d"); ExitCode(err) != 1 || !strings.Contains(err.Error(), "SNAPSHOT_NOT_FOUND") {
		t.Errorf("unknown snapshot: %v", err)
	}
	if _, _, err := w.drill(t, w.env, "--source", "dst", "--target", "src"); ExitCode(err) != 1 || !strings.Contains(err.Error(), "no completed snapshot") {
		t.Errorf("no snapshot: %v", err)
	}
}

// TestDrillMissesRTO: on a manual clock a restore takes exactly the time
// the clock is moved while it runs, so the RTO is exact and over
// --max-rto; the exit status is 1 and the text says why.
func TestDrillMissesRTO(t *testing.T) {
	w := newDrillWorld(t, map[string]string{"FLEXD_RESTORE_TIME": "10m"})
	type outcome struct {
		out string
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), []string{"flexd", "drill", "--base-url", w.base, "--project", w.project,
			"--source", "src", "--target", "dst", "--poll-interval", "10ms", "--max-rto", "5m", "--progress=false"},
			func(k string) string { return w.env[k] }, &out, &errOut)
		done <- outcome{out.String(), err}
	}()
	// Move the clock once the restore runs, observed through the API.
	jobs := "/api/atlas/v2/groups/" + w.project + "/flexClusters/src/backup/restoreJobs"
	awaitUntil(t, "the restore to run", func() bool {
		_, body := w.admin(t, w.base, "GET", jobs, "")
		results, _ := body["results"].([]any)
		return len(results) == 1 && results[0].(map[string]any)["status"] == "RUNNING"
	})
	w.advance(t, "10m")
	res := <-done
	if ExitCode(res.err) != 1 || !strings.Contains(res.err.Error(), "RTO 10m0s exceeds --max-rto 5m0s") {
		t.Fatalf("drill err %v, want RTO over threshold\n%s", res.err, res.out)
	}
	for _, want := range []string{"Restore drill FAILED", "RTO 10m0s (max 5m0s)", "FAIL: RTO 10m0s exceeds --max-rto 5m0s"} {
		if !strings.Contains(squash(res.out), want) {
			t.Errorf("text report lacks %q:\n%s", want, res.out)
		}
	}
}

// squash makes the text report's aligned columns single-spaced.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
