package flexdtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"
	"go.mongodb.org/atlas-sdk/v20250312006/auth"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/flexdtest"
	"github.com/flexd/flexd/postgres/pgtest"
)

// digestClient is the SDK as most Atlas users build it: an API key, HTTP
// Digest.
func digestClient(t testing.TB, srv *flexdtest.Server) *admin.APIClient {
	t.Helper()
	api, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseDigestAuth(srv.PublicKey, srv.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// oauthClient is the SDK on a service account. Its token client is given
// in ctx: without one the SDK installs its transport on
// http.DefaultClient, for the whole process.
func oauthClient(t testing.TB, baseURL, id, secret string) *admin.APIClient {
	t.Helper()
	ctx := context.WithValue(context.Background(), auth.HTTPClient, &http.Client{})
	api, err := admin.NewClient(admin.UseBaseURL(baseURL), admin.UseOAuthAuth(ctx, id, secret))
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// eventually polls cond until it holds. The limit is a guard against a
// hung test, not an assertion on speed.
func eventually(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after 30s (last error: %v)", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func createProject(t testing.TB, api *admin.APIClient, orgID, name string) string {
	t.Helper()
	g, _, err := api.ProjectsApi.CreateProject(context.Background(), &admin.Group{Name: name, OrgId: orgID}).Execute()
	if err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	return g.GetId()
}

// createIdleCluster creates a Flex cluster and waits until it is IDLE.
func createIdleCluster(t testing.TB, api *admin.APIClient, groupID, name string) *admin.FlexClusterDescription20241113 {
	t.Helper()
	ctx := context.Background()
	_, _, err := api.FlexClustersApi.CreateFlexCluster(ctx, groupID, &admin.FlexClusterDescriptionCreate20241113{
		Name:             name,
		ProviderSettings: admin.FlexProviderSettingsCreate20241113{BackingProviderName: "AWS", RegionName: "US_EAST_1"},
	}).Execute()
	if err != nil {
		t.Fatalf("create cluster %s: %v", name, err)
	}
	var c *admin.FlexClusterDescription20241113
	eventually(t, "cluster "+name+" IDLE", func() (bool, error) {
		c, _, err = api.FlexClustersApi.GetFlexCluster(ctx, groupID, name).Execute()
		return err == nil && c.GetStateName() == "IDLE", err
	})
	return c
}

// restore starts a restore of snapshotID from source into target and
// returns the job once it has ended.
func restore(t testing.TB, api *admin.APIClient, groupID, source, snapshotID, target string) *admin.FlexBackupRestoreJob20241113 {
	t.Helper()
	ctx := context.Background()
	job, _, err := api.FlexRestoreJobsApi.CreateFlexBackupRestoreJob(ctx, groupID, source, &admin.FlexBackupRestoreJobCreate20241113{
		SnapshotId: snapshotID, TargetDeploymentItemName: target,
	}).Execute()
	if err != nil {
		t.Fatalf("create restore job: %v", err)
	}
	eventually(t, "restore job "+job.GetId()+" ended", func() (bool, error) {
		job, _, err = api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, groupID, source, job.GetId()).Execute()
		return err == nil && (job.GetStatus() == "COMPLETED" || job.GetStatus() == "FAILED"), err
	})
	return job
}

// TestSDKEndToEnd is a user's test: with the official Atlas Go SDK, a
// project and two clusters; a day later the daily snapshot exists; it
// restores into the other cluster.
func TestSDKEndToEnd(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t)
	api := digestClient(t, srv)
	ctx := context.Background()

	groupID := createProject(t, api, srv.OrgID, "e2e")
	created := createIdleCluster(t, api, groupID, "source").GetCreateDate()
	createIdleCluster(t, api, groupID, "target")

	snaps, _, err := api.FlexSnapshotsApi.ListFlexBackups(ctx, groupID, "source").Execute()
	if err != nil || snaps.GetTotalCount() != 0 {
		t.Fatalf("snapshots before a day has passed: %v, %v", snaps.GetTotalCount(), err)
	}
	now := srv.Advance(24 * time.Hour)
	if now.Before(created.Add(24 * time.Hour)) {
		t.Fatalf("Advance returned %v, less than a day after the cluster's creation %v", now, created)
	}
	snaps, _, err = api.FlexSnapshotsApi.ListFlexBackups(ctx, groupID, "source").Execute()
	if err != nil {
		t.Fatal(err)
	}
	if snaps.GetTotalCount() != 1 || snaps.GetResults()[0].GetStatus() != "COMPLETED" {
		t.Fatalf("after a day: %d snapshots, want the daily one COMPLETED: %+v", snaps.GetTotalCount(), snaps.GetResults())
	}
	daily := snaps.GetResults()[0]
	if !daily.GetScheduledTime().Equal(created.Add(24 * time.Hour)) {
		t.Errorf("daily snapshot scheduled at %v, want a day after creation (%v)", daily.GetScheduledTime(), created)
	}

	job := restore(t, api, groupID, "source", daily.GetId(), "target")
	if job.GetStatus() != "COMPLETED" || job.GetTargetDeploymentItemName() != "target" || job.GetSnapshotId() != daily.GetId() {
		t.Fatalf("restore job: %+v", job)
	}
	target, _, err := api.FlexClustersApi.GetFlexCluster(ctx, groupID, "target").Execute()
	if err != nil || target.GetStateName() != "IDLE" {
		t.Fatalf("target after the restore: %v, %v", target.GetStateName(), err)
	}
}

// TestServiceAccount: the service account works with the SDK's OAuth
// client credentials, as an owner of the organization and an instance
// administrator, like the API key.
func TestServiceAccount(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t)
	api := oauthClient(t, srv.URL, srv.ClientID, srv.ClientSecret)
	ctx := context.Background()
	org, _, err := api.OrganizationsApi.GetOrganization(ctx, srv.OrgID).Execute()
	if err != nil || org.GetId() != srv.OrgID {
		t.Fatalf("get organization as the service account: %v, %v", org, err)
	}
	groupID := createProject(t, api, srv.OrgID, "by-service-account")
	createIdleCluster(t, api, groupID, "c")
	// The API key sees what the service account made: one organization.
	p, _, err := digestClient(t, srv).ProjectsApi.GetProject(ctx, groupID).Execute()
	if err != nil || p.GetOrgId() != srv.OrgID {
		t.Fatalf("project as the API key: %v, %v", p, err)
	}
	// Both are instance administrators: the clock is theirs to read.
	if code := getClock(t, srv.URL, api.GetConfig().HTTPClient); code != http.StatusOK {
		t.Errorf("GET /_flexd/clock as the service account: %d", code)
	}
	if code := getClock(t, srv.URL, digestClient(t, srv).GetConfig().HTTPClient); code != http.StatusOK {
		t.Errorf("GET /_flexd/clock as the API key: %d", code)
	}

	// A wrong secret is refused.
	bad := oauthClient(t, srv.URL, srv.ClientID, srv.ClientSecret+"x")
	if _, _, err := bad.OrganizationsApi.GetOrganization(ctx, srv.OrgID).Execute(); err == nil {
		t.Fatal("a wrong client secret was accepted")
	}
}

func getClock(t testing.TB, base string, c *http.Client) int {
	t.Helper()
	resp, err := c.Get(base + "/_flexd/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Manual bool }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || !body.Manual {
		t.Errorf("GET /_flexd/clock: %v, manual %v", err, body.Manual)
	}
	return resp.StatusCode
}

// TestFaultFailsRestore: an injected restore fault makes the next restore
// into the cluster end FAILED, and only the next.
func TestFaultFailsRestore(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t)
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "faults")
	createIdleCluster(t, api, groupID, "source")
	createIdleCluster(t, api, groupID, "target")
	sn := srv.Snapshot(groupID, "source")
	if sn.Status != flexd.StatusCompleted {
		t.Fatalf("snapshot: %s (%s)", sn.Status, sn.FailureReason)
	}

	srv.InjectFault(groupID, "target", flexd.FaultRequest{Operation: flexd.FaultRestore, Count: 1, Reason: "disk full"})
	failed := restore(t, api, groupID, "source", sn.ID, "target")
	if failed.GetStatus() != "FAILED" {
		t.Fatalf("restore after a fault: %s, want FAILED", failed.GetStatus())
	}
	// flexd's own view of the job says why.
	resp, err := api.GetConfig().HTTPClient.Get(srv.URL + "/_flexd/groups/" + groupID + "/flexClusters/source/backup/restoreJobs/" + failed.GetId())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var detail struct{ Status, FailureReason string }
	if err := json.NewDecoder(resp.Body).Decode(&detail); err != nil || detail.Status != "FAILED" || !strings.Contains(detail.FailureReason, "disk full") {
		t.Fatalf("the failed job's detail: %d %+v %v", resp.StatusCode, detail, err)
	}
	if job := restore(t, api, groupID, "source", sn.ID, "target"); job.GetStatus() != "COMPLETED" {
		t.Fatalf("the restore after that: %s, want COMPLETED", job.GetStatus())
	}
}

// TestSnapshotHelper: Snapshot returns the snapshot once it has ended,
// FAILED with the fault's reason after a snapshot fault; the SDK lists
// both.
func TestSnapshotHelper(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t)
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "snapshots")
	createIdleCluster(t, api, groupID, "c")

	ok := srv.Snapshot(groupID, "c")
	srv.InjectFault(groupID, "c", flexd.FaultRequest{Operation: flexd.FaultSnapshot, Count: 1, Reason: "no space"})
	failed := srv.Snapshot(groupID, "c")
	if ok.Status != flexd.StatusCompleted || failed.Status != flexd.StatusFailed || failed.FailureReason != "no space" {
		t.Fatalf("snapshots: %s, then %s (%q)", ok.Status, failed.Status, failed.FailureReason)
	}
	snaps, _, err := api.FlexSnapshotsApi.ListFlexBackups(context.Background(), groupID, "c").Execute()
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for _, s := range snaps.GetResults() {
		statuses[s.GetId()] = s.GetStatus()
	}
	if statuses[ok.ID] != "COMPLETED" || statuses[failed.ID] != "FAILED" || len(statuses) != 2 {
		t.Fatalf("listed snapshots: %v", statuses)
	}
}

// The example seed of package seed: what CI knows in advance.
const (
	seedFile       = "../seed/testdata/ci.yaml"
	seedGroupID    = "65a1b2c3d4e5f60718293a4d"
	seedPublicKey  = "ciadmina"
	seedPrivateKey = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
	seedClientID   = "mdb_sa_id_65a1b2c3d4e5f60718293a4c"
	seedSecret     = "mdb_sa_sk_ci-known-in-advance"
	seedSnapshotID = "695734ec0000000000000001"
)

// TestSeed: the same seed file `flexd serve --seed` takes, by path and by
// contents: its credentials work, its clusters and snapshots are there,
// and a seeded snapshot restores.
func TestSeed(t *testing.T) {
	t.Parallel()
	yaml, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]flexdtest.Option{
		"path": flexdtest.WithSeed(seedFile), "yaml": flexdtest.WithSeedYAML(yaml),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := flexdtest.New(t, opt)
			ctx := context.Background()
			owner, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseDigestAuth(seedPublicKey, seedPrivateKey))
			if err != nil {
				t.Fatal(err)
			}
			snaps, _, err := owner.FlexSnapshotsApi.ListFlexBackups(ctx, seedGroupID, "source").Execute()
			if err != nil || snaps.GetTotalCount() != 2 {
				t.Fatalf("seeded snapshots: %d, %v", snaps.GetTotalCount(), err)
			}
			// The seeded service account is the project's owner.
			bot := oauthClient(t, srv.URL, seedClientID, seedSecret)
			if job := restore(t, bot, seedGroupID, "source", seedSnapshotID, "target"); job.GetStatus() != "COMPLETED" {
				t.Fatalf("restore of a seeded snapshot: %s", job.GetStatus())
			}
			// The admin credentials are made beside the seed.
			if _, _, err := digestClient(t, srv).OrganizationsApi.GetOrganization(ctx, srv.OrgID).Execute(); err != nil {
				t.Fatalf("admin key beside a seed: %v", err)
			}
		})
	}
}

// TestBadSeedFailsStart: a seed fault is Start's error, naming file, line
// and field, and nothing is left running.
func TestBadSeedFailsStart(t *testing.T) {
	t.Parallel()
	_, err := flexdtest.Start(flexdtest.WithSeedYAML([]byte("organizations:\n  - name: x\n    apiKeys:\n      - publicKey: NOTLOWER\n")))
	if err == nil || !strings.Contains(err.Error(), "seed.yaml:4") || !strings.Contains(err.Error(), "publicKey") {
		t.Fatalf("start with a bad seed: %v", err)
	}
}

// TestServersAreIsolated: servers in one process share nothing: each has
// its own organization, credentials and clock.
func TestServersAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := flexdtest.New(t), flexdtest.New(t)
	if a.URL == b.URL || a.OrgID == b.OrgID || a.PublicKey == b.PublicKey || a.ClientID == b.ClientID {
		t.Fatalf("two servers share an address or credentials: %+v %+v", a, b)
	}
	createProject(t, digestClient(t, a), a.OrgID, "only-in-a")
	projects, _, err := digestClient(t, b).ProjectsApi.ListProjects(context.Background()).Execute()
	if err != nil || projects.GetTotalCount() != 0 {
		t.Fatalf("b's projects: %d, %v", projects.GetTotalCount(), err)
	}
	// a's key is nothing to b.
	foreign, err := admin.NewClient(admin.UseBaseURL(b.URL), admin.UseDigestAuth(a.PublicKey, a.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := foreign.ProjectsApi.ListProjects(context.Background()).Execute(); err == nil {
		t.Fatal("b accepted a's API key")
	}
	before := b.Now()
	a.Advance(48 * time.Hour)
	if !b.Now().Equal(before) {
		t.Fatalf("advancing a moved b's clock: %v → %v", before, b.Now())
	}
}

// TestTimings: provisioning and restores take the times the options give,
// on the manual clock: nothing moves until Advance says so.
func TestTimings(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t, flexdtest.WithProvisionTime(time.Hour), flexdtest.WithRestoreTime(30*time.Minute),
		flexdtest.WithSnapshotInterval(0))
	api := digestClient(t, srv)
	ctx := context.Background()
	groupID := createProject(t, api, srv.OrgID, "timings")
	state := func(name string) string {
		t.Helper()
		c, _, err := api.FlexClustersApi.GetFlexCluster(ctx, groupID, name).Execute()
		if err != nil {
			t.Fatal(err)
		}
		return c.GetStateName()
	}
	for _, name := range []string{"source", "target"} {
		if _, _, err := api.FlexClustersApi.CreateFlexCluster(ctx, groupID, &admin.FlexClusterDescriptionCreate20241113{
			Name:             name,
			ProviderSettings: admin.FlexProviderSettingsCreate20241113{BackingProviderName: "AWS", RegionName: "US_EAST_1"},
		}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
	srv.Advance(59 * time.Minute)
	if got := state("source"); got != "CREATING" {
		t.Fatalf("59 minutes into a 1h provisioning: %s", got)
	}
	srv.Advance(time.Minute)
	if got := state("source"); got != "IDLE" {
		t.Fatalf("after the provisioning time: %s", got)
	}

	sn := srv.Snapshot(groupID, "source")
	job, _, err := api.FlexRestoreJobsApi.CreateFlexBackupRestoreJob(ctx, groupID, "source",
		&admin.FlexBackupRestoreJobCreate20241113{SnapshotId: sn.ID, TargetDeploymentItemName: "target"}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		t.Helper()
		j, _, err := api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, groupID, "source", job.GetId()).Execute()
		if err != nil {
			t.Fatal(err)
		}
		return j.GetStatus()
	}
	srv.Advance(29 * time.Minute)
	if got, target := status(), state("target"); got != "RUNNING" || target != "UPDATING" {
		t.Fatalf("29 minutes into a 30m restore: job %s, target %s", got, target)
	}
	srv.Advance(time.Minute)
	if got, target := status(), state("target"); got != "COMPLETED" || target != "IDLE" {
		t.Fatalf("after the restore time: job %s, target %s", got, target)
	}
}

// TestRealClock: with WithRealClock the lifecycle runs on the wall clock,
// and Advance refuses, as POST /_flexd/clock:advance does; a server from
// Start panics where New's would fail the test.
func TestRealClock(t *testing.T) {
	t.Parallel()
	srv, err := flexdtest.Start(flexdtest.WithRealClock())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "real")
	createIdleCluster(t, api, groupID, "c")
	if sn := srv.Snapshot(groupID, "c"); sn.Status != flexd.StatusCompleted {
		t.Fatalf("snapshot on the real clock: %s", sn.Status)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "clock is real") {
			t.Fatalf("Advance on a real clock: %v", p)
		}
	}()
	srv.Advance(time.Hour)
}

// TestBadArgs: a flag flexd serve refuses is Start's error.
func TestBadArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--no-such-flag"}, {"--clock=sometimes"}, {"--help"}} {
		if srv, err := flexdtest.Start(flexdtest.WithArgs(args...)); err == nil {
			srv.Close()
			t.Errorf("Start with %q: no error", args)
		}
	}
}

// TestDataDirSurvivesRestart: a second server on the first one's
// WithDataDir serves what the first made, with credentials of its own.
func TestDataDirSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := flexdtest.New(t, flexdtest.WithDataDir(dir))
	groupID := createProject(t, digestClient(t, first), first.OrgID, "kept")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := flexdtest.New(t, flexdtest.WithDataDir(dir))
	p, _, err := digestClient(t, second).ProjectsApi.GetProject(context.Background(), groupID).Execute()
	if err != nil || p.GetName() != "kept" || second.OrgID != first.OrgID {
		t.Fatalf("project after a restart: %v, %v (org %s, was %s)", p, err, second.OrgID, first.OrgID)
	}
}

// TestPostgres: WithArgs reaches every flag, the store included: the same
// drill on a PostgreSQL database of the test's own.
func TestPostgres(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t, flexdtest.WithArgs("--postgres-url="+pgtest.Database(t)))
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "on-postgres")
	createIdleCluster(t, api, groupID, "source")
	createIdleCluster(t, api, groupID, "target")
	srv.Advance(24 * time.Hour)
	snaps, _, err := api.FlexSnapshotsApi.ListFlexBackups(context.Background(), groupID, "source").Execute()
	if err != nil || snaps.GetTotalCount() != 1 {
		t.Fatalf("daily snapshot on PostgreSQL: %d, %v", snaps.GetTotalCount(), err)
	}
	if job := restore(t, api, groupID, "source", snaps.GetResults()[0].GetId(), "target"); job.GetStatus() != "COMPLETED" {
		t.Fatalf("restore on PostgreSQL: %s", job.GetStatus())
	}
	if !strings.Contains(srv.Logs(), "PostgreSQL") {
		t.Errorf("the log does not name the store:\n%s", srv.Logs())
	}
}
