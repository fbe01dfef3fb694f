package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// apiV2 is the prefix of every Atlas Admin API v2 path.
const apiV2 = "/api/atlas/v2"

// route is one line of the API surface: what it serves (method, pattern),
// in which resource versions, to whom, and with which handler. chain turns
// the declarations into the Atlas checks, so a handler only ever sees an
// authorized request in a supported version with well-formed ids.
type route struct {
	method   string
	pattern  string // a ServeMux pattern, matched on the escaped path
	versions []string
	access   access
	handler  http.Handler
}

const (
	orgs    = apiV2 + "/orgs"
	groups  = apiV2 + "/groups"
	project = groups + "/{groupId}"
	flex    = project + "/flexClusters"
	cluster = flex + "/{name}"
	backup  = cluster + "/backup"
)

// Roles the routes need (ATLAS-NOTES §4).
const (
	orgReadOnly    = flexd.RoleOrgReadOnly
	groupCreator   = flexd.RoleOrgGroupCreator
	orgOwner       = flexd.RoleOrgOwner
	readOnly       = flexd.RoleGroupReadOnly
	owner          = flexd.RoleGroupOwner
	clusterManager = flexd.RoleGroupClusterManager
)

// routes is the whole API surface.
func (s *server) routes() []route {
	return []route{
		{"GET", orgs, orgsAndProjects, caller(), s.listOrganizations()},
		{"GET", orgs + "/{orgId}", orgsAndProjects, org(orgReadOnly), s.getOrganization()},
		{"GET", orgs + "/{orgId}/groups", orgsAndProjects, org(orgReadOnly), s.listOrganizationProjects()},

		{"GET", groups, orgsAndProjects, caller(), s.listProjects()},
		{"POST", groups, orgsAndProjects, orgNamedInBody(groupCreator), s.createProject()},
		{"GET", project, orgsAndProjects, group(readOnly), s.getProject()},
		{"PATCH", project, orgsAndProjects, group(owner), s.updateProject()},
		{"DELETE", project, orgsAndProjects, group(owner), s.deleteProject()},

		{"GET", project + "/clusters/{clusterName}", clusterRead, group(readOnly), s.getCluster()},

		{"GET", flex, flexFamily, group(readOnly), s.listFlexClusters()},
		{"POST", flex, flexFamily, group(owner), s.createFlexCluster()},
		{"POST", flex + ":tenantUpgrade", flexFamily, group(clusterManager), s.upgradeFlexCluster()},
		{"GET", cluster, flexFamily, group(readOnly), s.getFlexCluster()},
		{"PATCH", cluster, flexFamily, group(owner), s.updateFlexCluster()},
		{"DELETE", cluster, flexFamily, group(owner), s.deleteFlexCluster()},

		{"GET", backup + "/snapshots", flexFamily, group(readOnly), s.listSnapshots()},
		{"GET", backup + "/snapshots/{snapshotId}", flexFamily, group(readOnly), s.getSnapshot()},
		{"POST", backup + "/download", flexFamily, group(owner), s.createDownload()},
		{"GET", backup + "/restoreJobs", flexFamily, group(owner), s.listRestoreJobs()},
		{"POST", backup + "/restoreJobs", flexFamily, group(owner), s.createRestoreJob()},
		{"GET", backup + "/restoreJobs/{restoreJobId}", flexFamily, group(owner), s.getRestoreJob()},

		// flexd's own: drills and probes.
		{"POST", "/_flexd/groups/{groupId}/flexClusters/{name}/snapshots", unversioned, group(orgOwner), s.takeSnapshot()},
		{"GET", "/healthz", unversioned, public(), s.healthz()},
		{"GET", "/readyz", unversioned, public(), s.readyz()},
	}
}
