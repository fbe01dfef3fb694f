package flexdtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"

	"github.com/flexd/flexd/flexdtest"
)

// A restore drill with the official Atlas Go SDK: two Flex clusters, a
// day later the daily snapshot, restored into the other cluster. In a
// test, flexdtest.New(t) replaces Start and Close, and failures fail the
// test.
func Example() {
	srv, err := flexdtest.Start()
	check(err)
	defer srv.Close()
	ctx := context.Background()
	api, err := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseDigestAuth(srv.PublicKey, srv.PrivateKey))
	check(err)

	project, _, err := api.ProjectsApi.CreateProject(ctx, &admin.Group{Name: "app", OrgId: srv.OrgID}).Execute()
	check(err)
	for _, name := range []string{"source", "target"} {
		_, _, err := api.FlexClustersApi.CreateFlexCluster(ctx, project.GetId(), &admin.FlexClusterDescriptionCreate20241113{
			Name:             name,
			ProviderSettings: admin.FlexProviderSettingsCreate20241113{BackingProviderName: "AWS", RegionName: "US_EAST_1"},
		}).Execute()
		check(err)
	}
	srv.Advance(24 * time.Hour) // provisioned, then a day later snapshotted

	snapshots, _, err := api.FlexSnapshotsApi.ListFlexBackups(ctx, project.GetId(), "source").Execute()
	check(err)
	daily := snapshots.GetResults()[0]
	fmt.Println("daily snapshot:", daily.GetStatus())

	job, _, err := api.FlexRestoreJobsApi.CreateFlexBackupRestoreJob(ctx, project.GetId(), "source",
		&admin.FlexBackupRestoreJobCreate20241113{SnapshotId: daily.GetId(), TargetDeploymentItemName: "target"}).Execute()
	check(err)
	srv.Advance(0) // runs what is due now: the restore
	job, _, err = api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, project.GetId(), "source", job.GetId()).Execute()
	check(err)
	fmt.Println("restore:", job.GetStatus())
	// Output:
	// daily snapshot: COMPLETED
	// restore: COMPLETED
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
