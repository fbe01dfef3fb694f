package flexdtest_test

// This file is README.md's recipe "go test with flexdtest" verbatim but for
// its package clause; TestREADMERecipe keeps the two the same.

import (
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"

	"github.com/flexd/flexd/flexdtest"
)

// TestRestoreRunbook rehearses a restore against a flexd of its own: a day
// after the clusters exist, the daily snapshot of "source" restores into
// "target".
func TestRestoreRunbook(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t) // HTTP on 127.0.0.1, data in t.TempDir(), a manual clock
	ctx := t.Context()
	api, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseDigestAuth(srv.PublicKey, srv.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	project, _, err := api.ProjectsApi.CreateProject(ctx, &admin.Group{Name: "runbook", OrgId: srv.OrgID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	groupID := project.GetId()
	for _, name := range []string{"source", "target"} {
		_, _, err := api.FlexClustersApi.CreateFlexCluster(ctx, groupID, &admin.FlexClusterDescriptionCreate20241113{
			Name:             name,
			ProviderSettings: admin.FlexProviderSettingsCreate20241113{BackingProviderName: "AWS", RegionName: "US_EAST_1"},
		}).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
	srv.Advance(24 * time.Hour) // the clusters are provisioned, and a day later snapshotted

	snapshots, _, err := api.FlexSnapshotsApi.ListFlexBackups(ctx, groupID, "source").Execute()
	if err != nil || snapshots.GetTotalCount() != 1 {
		t.Fatalf("daily snapshots: %d, %v", snapshots.GetTotalCount(), err)
	}
	// Here your own code would run its restore runbook with api.
	job, _, err := api.FlexRestoreJobsApi.CreateFlexBackupRestoreJob(ctx, groupID, "source", &admin.FlexBackupRestoreJobCreate20241113{
		SnapshotId: snapshots.GetResults()[0].GetId(), TargetDeploymentItemName: "target",
	}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	for job.GetStatus() != "COMPLETED" { // as against Atlas: poll until it ends
		if job.GetStatus() == "FAILED" {
			t.Fatalf("restore job %s FAILED", job.GetId())
		}
		time.Sleep(10 * time.Millisecond)
		job, _, err = api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, groupID, "source", job.GetId()).Execute()
		if err != nil {
			t.Fatal(err)
		}
	}
}
