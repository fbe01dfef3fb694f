package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// flexClusterView is the spec's FlexClusterDescription20241113, as real
// Atlas answers it: no links member of its own, tags only when there are
// some.
type flexClusterView struct {
	BackupSettings               backupSettingsView    `json:"backupSettings"`
	ClusterType                  string                `json:"clusterType"`
	ConnectionStrings            connectionStringsView `json:"connectionStrings"`
	CreateDate                   atlasTime             `json:"createDate,omitzero"`
	GroupID                      string                `json:"groupId"`
	ID                           string                `json:"id"`
	MongoDBVersion               string                `json:"mongoDBVersion,omitempty"`
	Name                         string                `json:"name"`
	ProviderSettings             providerSettingsView  `json:"providerSettings"`
	StateName                    flexd.ClusterState    `json:"stateName"`
	Tags                         []tag                 `json:"tags,omitempty"`
	TerminationProtectionEnabled bool                  `json:"terminationProtectionEnabled"`
	VersionReleaseSystem         string                `json:"versionReleaseSystem"`
}

// backupSettingsView is FlexBackupSettings20241113: Flex backups are
// always on.
type backupSettingsView struct {
	Enabled bool `json:"enabled"`
}

type connectionStringsView struct {
	Standard    string `json:"standard,omitempty"`
	StandardSrv string `json:"standardSrv,omitempty"`
}

// viewConnectionStrings shows a connection string only once something
// answers at it: the standard one from IDLE on (Atlas shows none while
// the cluster is CREATING), the SRV one whenever the cluster has one,
// which the service gives it only under a DNS name flexd was configured
// with.
func viewConnectionStrings(c *flexd.FlexCluster) connectionStringsView {
	v := connectionStringsView{StandardSrv: c.SrvConnectionString}
	if c.StateName != flexd.ClusterCreating {
		v.Standard = c.StandardConnectionString
	}
	return v
}

type providerSettingsView struct {
	BackingProviderName string  `json:"backingProviderName"`
	DiskSizeGB          float64 `json:"diskSizeGB"`
	ProviderName        string  `json:"providerName"`
	RegionName          string  `json:"regionName"`
}

func viewFlexCluster(_ string, c *flexd.FlexCluster) flexClusterView {
	return flexClusterView{
		BackupSettings:    backupSettingsView{Enabled: true},
		ClusterType:       "REPLICASET",
		ConnectionStrings: viewConnectionStrings(c),
		CreateDate:        atlasTime(c.CreateDate),
		GroupID:           c.GroupID,
		ID:                c.ID,
		MongoDBVersion:    c.MongoDBVersion,
		Name:              c.Name,
		ProviderSettings: providerSettingsView{
			BackingProviderName: c.BackingProviderName,
			DiskSizeGB:          c.DiskSizeGB,
			ProviderName:        "FLEX",
			RegionName:          c.RegionName,
		},
		StateName:                    c.StateName,
		Tags:                         tagsView(c.Tags),
		TerminationProtectionEnabled: c.TerminationProtectionEnabled,
		VersionReleaseSystem:         "LTS",
	}
}

// flexClusterReadOnly are the read-only properties of
// FlexClusterDescription20241113 that a client may echo back in a create
// or update.
var flexClusterReadOnly = []string{
	"backupSettings", "clusterType", "connectionStrings", "createDate", "groupId", "id",
	"links", "mongoDBVersion", "stateName", "versionReleaseSystem",
}

// flexClusterCreate is FlexClusterDescriptionCreate20241113. Name, provider
// and region patterns and enums are the service's to check.
type flexClusterCreate struct {
	Name                         string                  `json:"name" atlas:"required"`
	ProviderSettings             *providerSettingsCreate `json:"providerSettings" atlas:"required"`
	Tags                         []tag                   `json:"tags"`
	TerminationProtectionEnabled bool                    `json:"terminationProtectionEnabled"`
}

func (flexClusterCreate) ignored() []string { return flexClusterReadOnly }

// providerSettingsCreate is FlexProviderSettingsCreate20241113; the Atlas
// CLI sends the read-only providerName "FLEX".
type providerSettingsCreate struct {
	BackingProviderName string `json:"backingProviderName" atlas:"required"`
	RegionName          string `json:"regionName" atlas:"required"`
}

func (providerSettingsCreate) ignored() []string { return []string{"diskSizeGB", "providerName"} }

// flexClusterUpdate is FlexClusterDescriptionUpdate20241113. name and
// providerSettings cannot change and are not accepted.
type flexClusterUpdate struct {
	Tags                         *[]tag `json:"tags"`
	TerminationProtectionEnabled *bool  `json:"terminationProtectionEnabled"`
}

func (flexClusterUpdate) ignored() []string { return flexClusterReadOnly }

// tenantUpgrade is AtlasTenantClusterUpgradeRequest20240805. flexd has no
// tier to upgrade to, so only the cluster's name is read; the request's
// other properties are accepted unread.
type tenantUpgrade struct {
	Name string `json:"name" atlas:"required"`
}

func (tenantUpgrade) ignored() []string {
	return []string{
		"acceptDataRisksAndForceReplicaSetReconfig", "advancedConfiguration", "backupEnabled",
		"biConnector", "clusterType", "configServerManagementMode", "configServerType",
		"connectionStrings", "createDate", "diskWarmingMode", "encryptionAtRestProvider",
		"featureCompatibilityVersion", "featureCompatibilityVersionExpirationDate",
		"globalClusterSelfManagedSharding", "groupId", "id", "labels", "links",
		"mongoDBEmployeeAccessGrant", "mongoDBMajorVersion", "mongoDBVersion", "paused",
		"pitEnabled", "redactClientLogData", "replicaSetScalingStrategy", "replicationSpecs",
		"rootCertType", "stateName", "tags", "terminationProtectionEnabled", "versionReleaseSystem",
	}
}

func (s *server) listFlexClusters() http.Handler {
	return list(s, func(r *http.Request, p flexd.Page) ([]flexd.FlexCluster, int, error) {
		project, err := projectOf(r)
		if err != nil {
			return nil, 0, err
		}
		return s.cfg.Clusters.ListFlexClusters(r.Context(), project, p)
	}, viewFlexCluster)
}

func (s *server) createFlexCluster() http.Handler {
	return withBody(s, http.StatusCreated, func(r *http.Request, in *flexClusterCreate) (*flexd.FlexCluster, error) {
		return s.cfg.Clusters.CreateFlexCluster(r.Context(), r.PathValue("groupId"), flexd.FlexClusterCreate{
			Name:                         in.Name,
			BackingProviderName:          in.ProviderSettings.BackingProviderName,
			RegionName:                   in.ProviderSettings.RegionName,
			Tags:                         tagsOf(in.Tags),
			TerminationProtectionEnabled: in.TerminationProtectionEnabled,
		})
	}, viewFlexCluster)
}

func (s *server) getFlexCluster() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.FlexCluster, error) {
		return s.clusterOf(r)
	}, viewFlexCluster)
}

func (s *server) updateFlexCluster() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *flexClusterUpdate) (*flexd.FlexCluster, error) {
		return s.cfg.Clusters.UpdateFlexCluster(r.Context(), r.PathValue("groupId"), r.PathValue("name"), flexd.FlexClusterUpdate{
			Tags:                         tagsUpdate(in.Tags),
			TerminationProtectionEnabled: in.TerminationProtectionEnabled,
		})
	}, viewFlexCluster)
}

func (s *server) deleteFlexCluster() http.Handler {
	return remove(s, func(r *http.Request) error {
		return s.cfg.Clusters.DeleteFlexCluster(r.Context(), r.PathValue("groupId"), r.PathValue("name"))
	})
}

// upgradeFlexCluster answers :tenantUpgrade; the service refuses it in
// Atlas's words.
func (s *server) upgradeFlexCluster() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *tenantUpgrade) (*flexd.FlexCluster, error) {
		return s.cfg.Clusters.UpgradeFlexCluster(r.Context(), r.PathValue("groupId"), in.Name)
	}, viewFlexCluster)
}
