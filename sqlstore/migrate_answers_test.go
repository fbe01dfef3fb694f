package sqlstore

import (
	"testing"
)

// TestAnswersMigrations upgrades a database that holds rows from before
// migrations 0030-0032: projects keep Atlas's default alert settings, API
// keys have no private key tail to show (only HA1 values were kept), and
// standardSrv strings under the built-in flexd.local, which resolved
// nowhere, are dropped while any other is kept.
func TestAnswersMigrations(t *testing.T) {
	db := databaseBefore(t, 30,
		"INSERT INTO organizations (id, name) VALUES ('o1', 'org')",
		"INSERT INTO projects (id, org_id, name) VALUES ('p1', 'o1', 'old')",
		"INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256) VALUES ('k1', 'o1', 'abcdefgh', 'd', 'm', 's')",
		"INSERT INTO flex_clusters (id, group_id, name, srv_connection_string) VALUES ('c1', 'p1', 'fake', 'mongodb+srv://fake.1a2b3.flexd.local')",
		"INSERT INTO flex_clusters (id, group_id, name, srv_connection_string) VALUES ('c2', 'p1', 'real', 'mongodb+srv://real.1a2b3.db.example.com')",
	)
	if err := New(db, testSQLite).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var alerts bool
	var tail, fake, real string
	for _, c := range []struct {
		q    string
		dest any
	}{
		{"SELECT with_default_alerts_settings FROM projects WHERE id = 'p1'", &alerts},
		{"SELECT private_key_tail FROM api_keys WHERE id = 'k1'", &tail},
		{"SELECT srv_connection_string FROM flex_clusters WHERE id = 'c1'", &fake},
		{"SELECT srv_connection_string FROM flex_clusters WHERE id = 'c2'", &real},
	} {
		if err := db.QueryRow(c.q).Scan(c.dest); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
	}
	if !alerts || tail != "" || fake != "" || real != "mongodb+srv://real.1a2b3.db.example.com" {
		t.Errorf("after migrating: alerts %v, tail %q, flexd.local srv %q, other srv %q", alerts, tail, fake, real)
	}
}
