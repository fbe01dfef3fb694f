package flexd

import (
	"context"
	"time"
)

// ClusterState is a cluster's stateName.
type ClusterState string

// Cluster states, as Atlas names them.
const (
	ClusterIdle      ClusterState = "IDLE"
	ClusterCreating  ClusterState = "CREATING"
	ClusterUpdating  ClusterState = "UPDATING"
	ClusterDeleting  ClusterState = "DELETING"
	ClusterRepairing ClusterState = "REPAIRING"
)

// FlexCluster is an Atlas Flex cluster.
type FlexCluster struct {
	ID                           string
	GroupID                      string
	Name                         string
	BackingProviderName          string // AWS, AZURE or GCP
	RegionName                   string
	DiskSizeGB                   float64
	MongoDBVersion               string
	StateName                    ClusterState
	Tags                         []Tag
	TerminationProtectionEnabled bool
	CreateDate                   time.Time
	// StandardConnectionString and SrvConnectionString are the cluster's
	// connectionStrings.standard and .standardSrv.
	StandardConnectionString string
	SrvConnectionString      string
}

// FlexClusterCreate is what a caller may set when creating a Flex cluster.
type FlexClusterCreate struct {
	Name                         string
	BackingProviderName          string
	RegionName                   string
	Tags                         []Tag
	TerminationProtectionEnabled bool
}

// FlexClusterUpdate holds the fields a PATCH may change; nil leaves a field as is.
type FlexClusterUpdate struct {
	Tags                         *[]Tag
	TerminationProtectionEnabled *bool
}

// FlexClusterService manages Flex clusters. The reads take the project the
// caller has already loaded (the API's access check does), so a request
// reads each row once.
type FlexClusterService interface {
	CreateFlexCluster(ctx context.Context, groupID string, c FlexClusterCreate) (*FlexCluster, error)
	GetFlexCluster(ctx context.Context, project *Project, name string) (*FlexCluster, error)
	ListFlexClusters(ctx context.Context, project *Project, p Page) ([]FlexCluster, int, error)
	UpdateFlexCluster(ctx context.Context, groupID, name string, u FlexClusterUpdate) (*FlexCluster, error)
	DeleteFlexCluster(ctx context.Context, groupID, name string) error
	// UpgradeFlexCluster answers :tenantUpgrade; flexd has no dedicated tiers.
	UpgradeFlexCluster(ctx context.Context, groupID, name string) (*FlexCluster, error)
	// GetCluster answers the dedicated-cluster read that clients use to tell
	// a Flex cluster apart: it always fails, with the code that says which.
	GetCluster(ctx context.Context, groupID, name string) error
	// CreateCluster answers a dedicated-cluster create: always refused, as
	// flexd emulates no dedicated tiers.
	CreateCluster(ctx context.Context, groupID string) error
}
