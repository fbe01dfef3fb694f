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

	clusters = project + "/clusters"

	orgAPIKeys             = orgs + "/{orgId}/apiKeys"
	orgAPIKey              = orgAPIKeys + "/{apiUserId}"
	projectAPIKeys         = project + "/apiKeys"
	projectAPIKey          = projectAPIKeys + "/{apiUserId}"
	orgServiceAccounts     = orgs + "/{orgId}/serviceAccounts"
	orgServiceAccount      = orgServiceAccounts + "/{clientId}"
	projectServiceAccounts = project + "/serviceAccounts"
	projectServiceAccount  = projectServiceAccounts + "/{clientId}"
	databaseUsers          = project + "/databaseUsers"
	databaseUser           = databaseUsers + "/{databaseName}/{username}"
	accessList             = project + "/accessList"
	accessListEntry        = accessList + "/{entryValue}"
)

// Roles the routes need: each operation's role sentence in the spec
// (ATLAS-NOTES §4), checked, with flexd's deliberate differences, by
// TestRoutesFollowSpecRoles.
const (
	orgReadOnly    = flexd.RoleOrgReadOnly
	groupCreator   = flexd.RoleOrgGroupCreator
	orgOwner       = flexd.RoleOrgOwner
	orgMember      = flexd.RoleOrgMember
	readOnly       = flexd.RoleGroupReadOnly
	owner          = flexd.RoleGroupOwner
	clusterManager = flexd.RoleGroupClusterManager

	databaseAccessAdmin = flexd.RoleGroupDatabaseAccessAdmin
)

// routes is the whole API surface.
func (s *server) routes() []route {
	return []route{
		{"GET", orgs, orgsAndProjects, caller(), s.listOrganizations()},
		{"POST", orgs, orgsAndProjects, instance(), s.createOrganization()},
		// Organization Member reads the organization; Organization Read
		// Only, which reads everything in it, too (routes_spec_test.go).
		{"GET", orgs + "/{orgId}", orgsAndProjects, org(orgMember).orRole(orgReadOnly), s.getOrganization()},
		{"PATCH", orgs + "/{orgId}", orgsAndProjects, org(orgOwner).orInstanceAdmin(), s.updateOrganization()},
		{"DELETE", orgs + "/{orgId}", orgsAndProjects, instance(), s.deleteOrganization()},
		{"GET", orgs + "/{orgId}/groups", orgsAndProjects, org(orgMember).orRole(orgReadOnly), s.listOrganizationProjects()},

		{"GET", groups, orgsAndProjects, caller(), s.listProjects()},
		{"POST", groups, orgsAndProjects, orgNamedInBody(groupCreator), s.createProject()},
		{"GET", project, orgsAndProjects, group(readOnly), s.getProject()},
		{"PATCH", project, orgsAndProjects, group(owner), s.updateProject()},
		{"DELETE", project, orgsAndProjects, group(owner), s.deleteProject()},

		// Project sub-resources the official clients read and write.
		{"GET", project + "/settings", orgsAndProjects, group(readOnly), s.getProjectSettings()},
		{"PATCH", project + "/settings", orgsAndProjects, group(owner), s.updateProjectSettings()},
		{"GET", project + "/limits", orgsAndProjects, group(readOnly), s.listProjectLimits()},
		{"GET", project + "/limits/{limitName}", orgsAndProjects, group(readOnly), s.getProjectLimit()},
		{"PATCH", project + "/limits/{limitName}", orgsAndProjects, group(owner), s.setProjectLimit()},
		{"DELETE", project + "/limits/{limitName}", orgsAndProjects, group(owner), s.deleteProjectLimit()},
		{"GET", project + "/teams", orgsAndProjects, group(readOnly), s.listProjectTeams()},
		{"GET", project + "/ipAddresses", orgsAndProjects, group(readOnly), s.getProjectIPAddresses()},
		{"GET", project + "/managedSlowMs", orgsAndProjects, group(readOnly), s.getManagedSlowMs()},
		{"POST", project + "/managedSlowMs/enable", orgsAndProjects, group(owner), s.setManagedSlowMs(true)},
		{"DELETE", project + "/managedSlowMs/disable", orgsAndProjects, group(owner), s.setManagedSlowMs(false)},

		// The dedicated-cluster API: no dedicated clusters, and a Flex
		// cluster's name answered as Atlas does.
		{"GET", clusters, clusterList, group(readOnly), s.listClusters()},
		{"POST", clusters, clusterWrite, group(owner), s.createCluster()},
		{"GET", clusters + "/{clusterName}", clusterRead, group(readOnly), s.clusterByName()},
		{"PATCH", clusters + "/{clusterName}", clusterWrite, group(clusterManager), s.clusterByName()},
		{"DELETE", clusters + "/{clusterName}", clusterDelete, group(owner), s.clusterByName()},

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

		// Credentials: reading an organization's needs Organization Member,
		// managing them Organization Owner; a project's, Project Owner.
		{"GET", orgAPIKeys, apiKeyVersions, org(orgMember), s.listOrgAPIKeys()},
		{"POST", orgAPIKeys, apiKeyVersions, org(orgOwner), s.createOrgAPIKey()},
		{"GET", orgAPIKey, apiKeyVersions, org(orgMember), s.getOrgAPIKey()},
		{"PATCH", orgAPIKey, apiKeyVersions, org(orgOwner), s.updateOrgAPIKey()},
		{"DELETE", orgAPIKey, apiKeyVersions, org(orgOwner), s.deleteOrgAPIKey()},
		{"GET", projectAPIKeys, apiKeyVersions, group(owner), s.listProjectAPIKeys()},
		{"POST", projectAPIKeys, apiKeyVersions, group(owner), s.createProjectAPIKey()},
		{"POST", projectAPIKey, apiKeyVersions, group(owner), s.assignProjectAPIKey()},
		{"PATCH", projectAPIKey, apiKeyVersions, group(owner), s.updateProjectAPIKey()},
		{"DELETE", projectAPIKey, apiKeyVersions, group(owner), s.unassignProjectAPIKey()},

		{"GET", orgServiceAccounts, serviceAccountVersions, org(orgMember), s.listOrgServiceAccounts()},
		{"POST", orgServiceAccounts, serviceAccountVersions, org(orgOwner), s.createOrgServiceAccount()},
		{"GET", orgServiceAccount, serviceAccountVersions, org(orgMember), s.getOrgServiceAccount()},
		{"PATCH", orgServiceAccount, serviceAccountVersions, org(orgOwner), s.updateOrgServiceAccount()},
		{"DELETE", orgServiceAccount, serviceAccountVersions, org(orgOwner), s.deleteOrgServiceAccount()},
		{"GET", orgServiceAccount + "/groups", serviceAccountVersions, org(orgMember), s.listServiceAccountProjects()},
		{"POST", orgServiceAccount + "/secrets", serviceAccountVersions, org(orgOwner), s.createServiceAccountSecret()},
		{"DELETE", orgServiceAccount + "/secrets/{secretId}", serviceAccountVersions, org(orgOwner), s.deleteServiceAccountSecret()},
		{"GET", projectServiceAccounts, serviceAccountVersions, group(owner), s.listProjectServiceAccounts()},
		{"POST", projectServiceAccounts, serviceAccountVersions, group(owner), s.createProjectServiceAccount()},
		{"GET", projectServiceAccount, serviceAccountVersions, group(owner), s.getProjectServiceAccount()},
		{"PATCH", projectServiceAccount, serviceAccountVersions, group(owner), s.updateProjectServiceAccount()},
		{"DELETE", projectServiceAccount, serviceAccountVersions, group(owner), s.removeProjectServiceAccount()},
		{"POST", projectServiceAccount + ":invite", serviceAccountVersions, group(owner), s.inviteProjectServiceAccount()},

		// Database access: Project Owner (or Database Access Admin, which
		// Owner implies) manages users and the access list, Project Read
		// Only reads them; Database Access Admin also reads the users it
		// manages.
		{"GET", databaseUsers, databaseAccessVersions, group(readOnly).orRole(databaseAccessAdmin), s.listDatabaseUsers()},
		{"POST", databaseUsers, databaseAccessVersions, group(databaseAccessAdmin), s.createDatabaseUser()},
		{"GET", databaseUser, databaseAccessVersions, group(readOnly).orRole(databaseAccessAdmin), s.getDatabaseUser()},
		{"PATCH", databaseUser, databaseAccessVersions, group(databaseAccessAdmin), s.updateDatabaseUser()},
		{"DELETE", databaseUser, databaseAccessVersions, group(databaseAccessAdmin), s.deleteDatabaseUser()},
		{"GET", accessList, databaseAccessVersions, group(readOnly), s.listAccessList()},
		{"POST", accessList, databaseAccessVersions, group(owner), s.createAccessList()},
		{"GET", accessListEntry, databaseAccessVersions, group(readOnly), s.getAccessListEntry()},
		{"DELETE", accessListEntry, databaseAccessVersions, group(owner), s.deleteAccessListEntry()},
		{"GET", accessListEntry + "/status", databaseAccessVersions, group(readOnly), s.getAccessListStatus()},

		// OAuth 2.0 for service accounts: the client authenticates itself.
		{"POST", "/api/oauth/token", unversioned, public(), s.oauthEndpoint(s.cfg.OAuthToken)},
		{"POST", "/api/oauth/revoke", unversioned, public(), s.oauthEndpoint(s.cfg.OAuthRevoke)},

		// flexd's own: drills and probes.
		{"POST", "/_flexd/groups/{groupId}/flexClusters/{name}/snapshots", unversioned, group(orgOwner), s.takeSnapshot()},
		{"POST", "/_flexd/groups/{groupId}/flexClusters/{name}/faults", unversioned, group(orgOwner), s.injectFault()},
		{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/snapshots/{snapshotId}", unversioned, group(readOnly), s.getSnapshotDetail()},
		{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}", unversioned, group(owner), s.getRestoreJobDetail()},
		{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backup/restoreJobs/{restoreJobId}/report", unversioned, group(owner), s.getRestoreReport()},
		// An existing MongoDB deployment as a cluster's backend: its URI is
		// a secret, so only Project Owner attaches, reads or detaches.
		{"GET", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", unversioned, group(owner), s.getBackend()},
		{"PUT", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", unversioned, group(owner), s.attachBackend()},
		{"DELETE", "/_flexd/groups/{groupId}/flexClusters/{name}/backend", unversioned, group(owner), s.detachBackend()},
		// Instance-wide: the instance administrator's. A reset by an
		// ORG_OWNER clears its organization, by the administrator all.
		{"GET", "/_flexd/clock", unversioned, instance(), s.getClock()},
		{"POST", "/_flexd/clock:advance", unversioned, instance(), s.advanceClock()},
		{"POST", "/_flexd/reset", unversioned, ownOrg(orgOwner).orInstanceAdmin(), s.reset()},
		{"PUT", "/_flexd/instanceAdministrators/{id}", unversioned, instance(), s.setInstanceAdministrator(true)},
		{"DELETE", "/_flexd/instanceAdministrators/{id}", unversioned, instance(), s.setInstanceAdministrator(false)},
		{"GET", "/_flexd/downloads/{token}", unversioned, public(), s.download()},
		{"GET", "/healthz", unversioned, public(), s.healthz()},
		{"GET", "/readyz", unversioned, public(), s.readyz()},
	}
}
