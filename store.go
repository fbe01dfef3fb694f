package flexd

import (
	"context"
	"time"
)

// Store is the storage contract every backend (sqlite, postgres) implements
// and the storetest suite checks. Methods return ErrNotFound, ErrConflict
// (a unique name taken) or ErrNotEmpty (a parent still has children), possibly
// wrapped; creating a child whose parent is missing is ErrNotFound; anything
// else is an internal failure.
//
// Lists return one page and, when Page.Count is set, the total number of
// items (NoCount otherwise). Lists are served from indexes, so a page costs
// the same however many rows other parents hold.
type Store interface {
	Ping(ctx context.Context) error
	Close() error

	// IdentityStore keeps API keys, service accounts and what their
	// authentication needs (identity.go).
	IdentityStore
	// OrganizationAdminStore and ProjectSettingsStore serve the instance
	// administrator and the project sub-resources.
	OrganizationAdminStore
	ProjectSettingsStore

	// DatabaseAccessStore keeps database users and IP access lists
	// (database_access.go).
	DatabaseAccessStore

	CreateOrganization(ctx context.Context, o *Organization) error
	GetOrganization(ctx context.Context, id string) (*Organization, error)
	ListOrganizations(ctx context.Context, f OrganizationFilter, p Page) ([]Organization, int, error)

	// CreateProject fails with ErrConflict when the org has a project of that name.
	CreateProject(ctx context.Context, p *Project) error
	// CreateOwnedProject is CreateProject that also grants owner Project
	// Owner of the new project, in the same transaction (Atlas makes the
	// principal that creates a project its owner).
	CreateOwnedProject(ctx context.Context, p *Project, owner ProjectOwner) error
	GetProject(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context, f ProjectFilter, p Page) ([]Project, int, error)
	// UpdateProject writes Name and Tags; ErrConflict on a taken name.
	UpdateProject(ctx context.Context, p *Project) error
	// DeleteProject fails with ErrNotEmpty while the project has clusters.
	DeleteProject(ctx context.Context, id string) error

	// CreateFlexCluster fails with ErrConflict when the project has a
	// cluster of that name.
	CreateFlexCluster(ctx context.Context, c *FlexCluster) error
	GetFlexCluster(ctx context.Context, groupID, name string) (*FlexCluster, error)
	GetFlexClusterByID(ctx context.Context, id string) (*FlexCluster, error)
	// ListFlexClusters lists a project's clusters in creation order.
	ListFlexClusters(ctx context.Context, groupID string, p Page) ([]FlexCluster, int, error)
	// UpdateFlexCluster writes the mutable fields: StateName, Tags,
	// TerminationProtectionEnabled, MongoDBVersion. It never moves a
	// cluster out of DELETING (ErrNotFound): that write was read before
	// the delete began, and would undo it.
	UpdateFlexCluster(ctx context.Context, c *FlexCluster) error
	// DeleteFlexCluster removes the cluster with its snapshots and jobs.
	DeleteFlexCluster(ctx context.Context, id string) error

	CreateSnapshot(ctx context.Context, s *Snapshot) error
	GetSnapshot(ctx context.Context, clusterID, id string) (*Snapshot, error)
	// ListSnapshots lists a cluster's snapshots, newest first.
	ListSnapshots(ctx context.Context, clusterID string, p Page) ([]Snapshot, int, error)
	// UpdateSnapshot writes status, times, failure reason and artifact fields.
	UpdateSnapshot(ctx context.Context, s *Snapshot) error
	DeleteSnapshot(ctx context.Context, id string) error

	CreateRestoreJob(ctx context.Context, j *RestoreJob) error
	GetRestoreJob(ctx context.Context, clusterID, id string) (*RestoreJob, error)
	// GetDownload finds a DOWNLOAD job by its token.
	GetDownload(ctx context.Context, token string) (*RestoreJob, error)
	// ListRestoreJobs lists the jobs whose source is the cluster, newest first.
	ListRestoreJobs(ctx context.Context, clusterID string, p Page) ([]RestoreJob, int, error)
	// UpdateRestoreJob writes status, dates and failure reason.
	UpdateRestoreJob(ctx context.Context, j *RestoreJob) error
}

// TimeOrZero returns t in UTC and whole seconds (Atlas's precision), or the
// zero time for a zero t; stores use it so that round-tripped times compare
// equal.
func TimeOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}
