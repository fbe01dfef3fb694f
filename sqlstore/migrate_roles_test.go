package sqlstore

import (
	"testing"
)

// TestProjectCredentialsBecomeOrgMembers upgrades a database from before
// migration 0100: the API keys and service accounts created through a
// project endpoint (those with no organization role, assigned to a project
// or no longer) become Organization Members, as Atlas makes them; a
// credential with organization roles keeps exactly those.
func TestProjectCredentialsBecomeOrgMembers(t *testing.T) {
	db := databaseBefore(t, 100,
		"INSERT INTO organizations (id, name) VALUES ('o1', 'org')",
		"INSERT INTO projects (id, org_id, name) VALUES ('p1', 'o1', 'p')",
		"INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256) VALUES ('assigned', 'o1', 'aaaaaaaa', 'd', 'm', 's')",
		"INSERT INTO api_key_projects (api_key_id, group_id, roles) VALUES ('assigned', 'p1', '[\"GROUP_OWNER\"]')",
		"INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256) VALUES ('unassigned', 'o1', 'bbbbbbbb', 'd', 'm', 's')",
		"INSERT INTO api_keys (id, org_id, public_key, description, org_roles, ha1_md5, ha1_sha256) VALUES ('reader', 'o1', 'cccccccc', 'd', '[\"ORG_READ_ONLY\"]', 'm', 's')",
		"INSERT INTO service_accounts (client_id, org_id, name, description) VALUES ('project-sa', 'o1', 'n', 'd')",
		"INSERT INTO service_account_projects (client_id, group_id, roles) VALUES ('project-sa', 'p1', '[\"GROUP_READ_ONLY\"]')",
		"INSERT INTO service_accounts (client_id, org_id, name, description, org_roles) VALUES ('owner-sa', 'o1', 'n', 'd', '[\"ORG_OWNER\"]')",
	)
	if err := New(db, testSQLite).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"SELECT org_roles FROM api_keys WHERE id = 'assigned'":                  `["ORG_MEMBER"]`,
		"SELECT org_roles FROM api_keys WHERE id = 'unassigned'":                `["ORG_MEMBER"]`,
		"SELECT org_roles FROM api_keys WHERE id = 'reader'":                    `["ORG_READ_ONLY"]`,
		"SELECT org_roles FROM service_accounts WHERE client_id = 'project-sa'": `["ORG_MEMBER"]`,
		"SELECT org_roles FROM service_accounts WHERE client_id = 'owner-sa'":   `["ORG_OWNER"]`,
		"SELECT roles FROM api_key_projects WHERE api_key_id = 'assigned'":      `["GROUP_OWNER"]`,
	} {
		var got string
		if err := db.QueryRow(q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
}
