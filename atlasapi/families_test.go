package atlasapi

import "testing"

// TestFamilies pins the budget of every route pattern, including those of
// routes other work adds (the cluster API, project settings, teams,
// limits, access list, database users, organization CRUD): they fall in
// by their prefix.
func TestFamilies(t *testing.T) {
	for pattern, want := range map[string]string{
		orgs:                     "orgs:300",
		orgs + "/{orgId}":        "org:500",
		orgs + "/{orgId}/groups": "org:500",
		orgAPIKey:                "org:500",
		orgServiceAccount + "/secrets/{secretId}": "org:500",
		groups:                                         "groups:1200",
		project:                                        "groups:1200",
		project + "/limits/{limitName}":                "groups:1200",
		project + "/managedSlowMs/enable":              "groups:1200",
		projectServiceAccount + ":invite":              "groups:1200",
		projectAPIKey:                                  "projectApiKeys:1200",
		flex:                                           "flexClusters:1200",
		flex + ":tenantUpgrade":                        "flexClusters:1200",
		backup + "/restoreJobs/{restoreJobId}":         "flexClusters:1200",
		project + "/accessList/{entryValue}":           "accessList:1200",
		project + "/settings":                          "settings:1200",
		project + "/teams":                             "teams:1200",
		project + "/clusters":                          "clusters:10000",
		project + "/clusters/{clusterName}":            "clusters:10000",
		project + "/databaseUsers/{db}/{username}":     "databaseUsers:10000",
		"/_flexd/groups/{groupId}/flexClusters/{name}": "",
		apiV2 + "/orgsX":                               "",
	} {
		got := ""
		if f, ok := familyOf(pattern); ok {
			got = f.name + ":" + itoa(f.limit)
		}
		if got != want {
			t.Errorf("%s: family %q, want %q", pattern, got, want)
		}
	}
}
