package sqlstore

import (
	"slices"
	"testing"
)

// TestMigrateDesignatesInstanceAdministrators upgrades a database from
// before 0020: the ORG_OWNER credentials of the default (oldest)
// organization ran the instance-wide drills then, and become instance
// administrators; nobody else does.
func TestMigrateDesignatesInstanceAdministrators(t *testing.T) {
	db := databaseBefore(t, 20,
		`INSERT INTO organizations (id, name, is_deleted, created) VALUES ('000000000000000000000001', 'default', FALSE, 0)`,
		`INSERT INTO organizations (id, name, is_deleted, created) VALUES ('000000000000000000000002', 'other', FALSE, 0)`,
		`INSERT INTO api_keys (id, org_id, public_key, description, org_roles, ha1_md5, ha1_sha256)
			VALUES ('00000000000000000000000a', '000000000000000000000001', 'aaaaaaaa', 'owner', '["ORG_OWNER"]', '', '')`,
		`INSERT INTO api_keys (id, org_id, public_key, description, org_roles, ha1_md5, ha1_sha256)
			VALUES ('00000000000000000000000b', '000000000000000000000001', 'bbbbbbbb', 'member', '["ORG_MEMBER"]', '', '')`,
		`INSERT INTO api_keys (id, org_id, public_key, description, org_roles, ha1_md5, ha1_sha256)
			VALUES ('00000000000000000000000c', '000000000000000000000002', 'cccccccc', 'other owner', '["ORG_OWNER"]', '', '')`,
		`INSERT INTO service_accounts (client_id, org_id, name, description, org_roles)
			VALUES ('mdb_sa_id_000000000000000000000001', '000000000000000000000001', 'sa', 'sa', '["ORG_READ_ONLY","ORG_OWNER"]')`,
	)
	s := New(db, testSQLite)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var admins []string
	for _, id := range []string{"00000000000000000000000a", "00000000000000000000000b", "00000000000000000000000c",
		"mdb_sa_id_000000000000000000000001"} {
		ok, err := s.IsInstanceAdministrator(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			admins = append(admins, id)
		}
	}
	if want := []string{"00000000000000000000000a", "mdb_sa_id_000000000000000000000001"}; !slices.Equal(admins, want) {
		t.Errorf("instance administrators after the upgrade: %v, want %v", admins, want)
	}
}
