package flexd

import "context"

// ProjectSettings are a project's boolean settings (GroupSettings on the
// wire), by Atlas's name. A project holds only what it changed; every
// other setting has its default (DefaultProjectSettings).
type ProjectSettings map[string]bool

// DefaultProjectSettings are the settings of a new project, as real Atlas
// answers them (ATLAS-NOTES §7): twelve booleans, more than the spec's
// GroupSettings lists. These names are all a PATCH may set.
var DefaultProjectSettings = ProjectSettings{
	"isAtlasHomePageAiAssistantEnabled":               true,
	"isClusterAiAssistantEnabled":                     true,
	"isCollectDatabaseSpecificsStatisticsEnabled":     true,
	"isDataExplorerEnabled":                           true,
	"isDataExplorerGenAIFeaturesEnabled":              true,
	"isDataExplorerGenAISampleDocumentPassingEnabled": false,
	"isDataValidationEnabled":                         true,
	"isExtendedStorageSizesEnabled":                   false,
	"isNativeRerankingEnabled":                        false,
	"isPerformanceAdvisorEnabled":                     true,
	"isRealtimePerformancePanelEnabled":               true,
	"isSchemaAdvisorEnabled":                          true,
}

// ManagedSlowMsSetting is the stored name of the project's managed slow
// operation threshold (GET /groups/{groupId}/managedSlowMs), kept beside
// the settings though the API shows it on its own path. Atlas enables it
// by default.
const ManagedSlowMsSetting = "managedSlowMs"

// ProjectLimit is one project limit (DataFederationLimit on the wire).
// Default and Maximum are zero for a limit that has none (the Data
// Federation limits exist only once set).
type ProjectLimit struct {
	Name         string
	Value        int64
	Default      int64
	Maximum      int64
	CurrentUsage int64
}

// LimitDef is what flexd knows of a limit: its default and the highest
// value a PATCH may set (both zero when Atlas has none), and the lowest.
type LimitDef struct {
	Default, Minimum, Maximum int64
}

// ProjectLimits are the limits Atlas names (the spec's limitName enum)
// with the defaults and maxima of the spec's table. A limit with a default
// is always listed; one without is listed only once set, and DELETE
// removes it entirely rather than resetting it.
var ProjectLimits = map[string]LimitDef{
	"atlas.project.deployment.clusters":                       {Default: 25, Minimum: 1, Maximum: 90},
	"atlas.project.deployment.nodesPerPrivateLinkRegion":      {Default: 50, Minimum: 1, Maximum: 90},
	"atlas.project.security.databaseAccess.customRoles":       {Default: 100, Minimum: 1, Maximum: 1400},
	"atlas.project.security.databaseAccess.users":             {Default: 100, Minimum: 1, Maximum: 900},
	"atlas.project.security.networkAccess.crossRegionEntries": {Default: 40, Minimum: 1, Maximum: 220},
	// The spec's table gives 20 as the maximum, below its own default of
	// 200; our rule: 20,000, Atlas's documented ceiling for access lists.
	"atlas.project.security.networkAccess.entries":                     {Default: 200, Minimum: 1, Maximum: 20000},
	"atlas.project.deployment.privateServiceConnectionsPerRegionGroup": {Default: 50, Minimum: 1, Maximum: 100},
	"atlas.project.deployment.privateServiceConnectionsSubnetMask":     {Default: 27, Minimum: 20, Maximum: 27},
	"atlas.project.deployment.salesSoldM0s":                            {Default: 100, Minimum: 1, Maximum: 100},
	// No default in the spec's table: present only once set.
	"atlas.project.deployment.serverlessMTMs": {Minimum: 1},
	"dataFederation.bytesProcessed.query":     {Minimum: 1},
	"dataFederation.bytesProcessed.daily":     {Minimum: 1},
	"dataFederation.bytesProcessed.weekly":    {Minimum: 1},
	"dataFederation.bytesProcessed.monthly":   {Minimum: 1},
}

// ClusterIPAddresses are the addresses of one cluster of a project
// (ClusterIPAddresses on the wire).
type ClusterIPAddresses struct {
	ClusterName    string
	Inbound        []string
	Outbound       []string
	FutureInbound  []string
	FutureOutbound []string
}

// ProjectIPAddresses are a project's cluster addresses (GroupIPAddresses).
type ProjectIPAddresses struct {
	GroupID  string
	Clusters []ClusterIPAddresses
}

// ProjectSettingsService serves what the official clients read and write
// around a project: settings, limits, teams (flexd has none), the cluster
// addresses and the managed slow operation threshold. Every call names a
// project the caller was authorized for.
type ProjectSettingsService interface {
	GetProjectSettings(ctx context.Context, groupID string) (*ProjectSettings, error)
	// UpdateProjectSettings sets the settings named in u and returns them
	// all.
	UpdateProjectSettings(ctx context.Context, groupID string, u ProjectSettings) (*ProjectSettings, error)
	ListProjectLimits(ctx context.Context, groupID string) ([]ProjectLimit, error)
	GetProjectLimit(ctx context.Context, groupID, name string) (*ProjectLimit, error)
	SetProjectLimit(ctx context.Context, groupID, name string, value int64) (*ProjectLimit, error)
	// DeleteProjectLimit resets a limit to its default, or removes one that
	// has none.
	DeleteProjectLimit(ctx context.Context, groupID, name string) error
	GetProjectIPAddresses(ctx context.Context, groupID string) (*ProjectIPAddresses, error)
	ManagedSlowMs(ctx context.Context, groupID string) (bool, error)
	SetManagedSlowMs(ctx context.Context, groupID string, enabled bool) error
}

// ProjectSettingsStore keeps what a project changed of Atlas's defaults,
// one row per name, so that a PATCH writes only the names it sets and
// never writes back values read earlier. A project's rows go with it.
type ProjectSettingsStore interface {
	// ProjectSettings returns the settings the project set.
	ProjectSettings(ctx context.Context, groupID string) (ProjectSettings, error)
	// SetProjectSettings sets the given settings in one transaction;
	// ErrNotFound when the project does not exist.
	SetProjectSettings(ctx context.Context, groupID string, s ProjectSettings) error
	// ProjectLimitValues returns the limits the project set, by name.
	ProjectLimitValues(ctx context.Context, groupID string) (map[string]int64, error)
	SetProjectLimitValue(ctx context.Context, groupID, name string, value int64) error
	// DeleteProjectLimitValue forgets a set limit; deleting one that was
	// not set is not an error.
	DeleteProjectLimitValue(ctx context.Context, groupID, name string) error
}
