package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/oauth2/clientcredentials"
)

// The example seed (seed/testdata/ci.yaml) and what CI knows of it in
// advance.
const (
	seedFile        = "../../seed/testdata/ci.yaml"
	seedOrgID       = "65a1b2c3d4e5f60718293a4b"
	seedGroupID     = "65a1b2c3d4e5f60718293a4d"
	seedSnapshotID  = "695734ec0000000000000001"
	seedPublicKey   = "ciadmina"
	seedPrivateKey  = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
	seedClientID    = "mdb_sa_id_65a1b2c3d4e5f60718293a4c"
	seedSecret      = "mdb_sa_sk_ci-known-in-advance"
	seedReaderKey   = "cireader"
	seedReaderPriv  = "00000000-1111-4222-8333-444444444444"
	seedClusters    = "/api/atlas/v2/groups/" + seedGroupID + "/flexClusters"
	seedOrgAPIKeys  = "/api/atlas/v2/orgs/" + seedOrgID + "/apiKeys"
	seedOrgAccounts = "/api/atlas/v2/orgs/" + seedOrgID + "/serviceAccounts"
)

func seedEnv(dir string) map[string]string {
	return map[string]string{"FLEXD_AUTH": "on", "FLEXD_SEED": seedFile, "FLEXD_DATA_DIR": dir, "FLEXD_RESTORE_TIME": "0s"}
}

// seededReads reads, as the seeded owner key with Digest, everything the
// seed made.
func seededReads(t *testing.T, base string) map[string]any {
	t.Helper()
	owner := digestCaller(seedPublicKey, seedPrivateKey)
	out := map[string]any{}
	for _, path := range []string{
		"/api/atlas/v2/orgs/" + seedOrgID,
		"/api/atlas/v2/groups/" + seedGroupID,
		seedClusters,
		seedClusters + "/source/backup/snapshots",
		seedClusters + "/target/backup/snapshots",
		seedOrgAPIKeys,
		seedOrgAccounts,
		"/api/atlas/v2/groups/" + seedGroupID + "/apiKeys",
		"/api/atlas/v2/groups/" + seedGroupID + "/serviceAccounts",
	} {
		code, body := owner(t, base, "GET", path, "")
		if code != 200 {
			t.Fatalf("GET %s as the seeded owner = %d %v", path, code, body)
		}
		// Links name the address, which changes with every start.
		var anywhere any
		remarshal(t, strings.ReplaceAll(toJSON(t, body), base, "BASE"), &anywhere)
		out[path] = anywhere
	}
	return out
}

// rowCounts counts the rows of every table of the data directory's
// store but the job queue's and the tokens and nonces that logging in
// writes.
func rowCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'river%' AND name NOT LIKE 'sqlite%'" +
		" AND name NOT IN ('access_tokens', 'digest_nonces')")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	counts := map[string]int{}
	for _, name := range tables {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM "` + name + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[name] = n
	}
	return counts
}

// TestSeededStart starts flexd with a seed file twice: the second start
// changes nothing (the same API reads, the same rows, and it says so), and
// the seeded credentials work the way CI uses them.
func TestSeededStart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, seedEnv(dir))
	first := seededReads(t, s.base)

	var clusters struct {
		Results []struct {
			Name, StateName  string
			CreateDate       string
			ProviderSettings struct{ BackingProviderName, RegionName string }
			Tags             []struct{ Key, Value string }
		}
	}
	remarshal(t, first[seedClusters], &clusters)
	if len(clusters.Results) != 2 {
		t.Fatalf("clusters = %+v", clusters)
	}
	for _, c := range clusters.Results {
		if c.StateName != "IDLE" {
			t.Errorf("cluster %s is %s, want IDLE", c.Name, c.StateName)
		}
	}
	if c := clusters.Results[0]; c.Name != "source" || c.ProviderSettings.RegionName != "US_EAST_1" ||
		len(c.Tags) != 1 || c.Tags[0].Value != "data" || c.CreateDate != "2026-01-01T03:00:00Z" {
		t.Errorf("source = %+v (its createDate defaults to its oldest snapshot)", c)
	}
	var snaps struct {
		Results []struct{ ID, Status, ScheduledTime, StartTime, FinishTime, Expiration string }
	}
	remarshal(t, first[seedClusters+"/source/backup/snapshots"], &snaps)
	if len(snaps.Results) != 2 {
		t.Fatalf("snapshots = %+v", snaps)
	}
	newest, oldest := snaps.Results[0], snaps.Results[1]
	if newest.ID != seedSnapshotID || newest.Status != "COMPLETED" || newest.FinishTime != "2026-01-02T03:01:00Z" ||
		newest.StartTime != newest.FinishTime || newest.Expiration != "2026-01-10T03:01:00Z" {
		t.Errorf("newest snapshot = %+v", newest)
	}
	if oldest.Status != "COMPLETED" || oldest.ScheduledTime != "2026-01-01T03:00:00Z" ||
		oldest.StartTime != "2026-01-01T03:00:05Z" || oldest.FinishTime != "2026-01-01T03:01:00Z" {
		t.Errorf("oldest snapshot = %+v", oldest)
	}

	// The reader key has what its grant gives: it reads the project and
	// may not create in it (Atlas answers 401 USER_UNAUTHORIZED).
	reader := digestCaller(seedReaderKey, seedReaderPriv)
	if code, body := reader(t, s.base, "GET", seedClusters, ""); code != 200 {
		t.Errorf("reader lists clusters: %d %v", code, body)
	}
	if code, body := reader(t, s.base, "POST", seedClusters,
		`{"name":"nope","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`); code != 401 || body["errorCode"] != "USER_UNAUTHORIZED" {
		t.Errorf("reader creates a cluster: %d %v, want 401 USER_UNAUTHORIZED", code, body)
	}
	// The owner key is the instance administrator the file made it; the
	// reader is not.
	if code, body := digestCaller(seedPublicKey, seedPrivateKey)(t, s.base, "GET", "/_flexd/clock", ""); code != 200 {
		t.Errorf("the seeded instance administrator reads the clock: %d %v", code, body)
	}
	if code, _ := reader(t, s.base, "GET", "/_flexd/clock", ""); code == 200 {
		t.Error("the reader reads the instance's clock")
	}
	// No admin key was generated: the seed's credentials are the way in.
	if _, err := os.Stat(filepath.Join(dir, adminKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an admin key file was written beside the seeded credentials: %v", err)
	}
	s.stop(t)
	counts := rowCounts(t, dir)
	if counts["snapshot_artifacts"] != 2 || counts["flex_clusters"] != 2 || counts["api_keys"] != 2 {
		t.Errorf("rows after the first start: %v", counts)
	}

	s = start(t, dir, seedEnv(dir))
	if !strings.Contains(s.logs.String(), `"msg":"seed applied","file":"`+seedFile+`","created":0,"updated":0`) {
		t.Errorf("the second start wrote something:\n%s", s.logs.String())
	}
	second := seededReads(t, s.base)
	if !reflect.DeepEqual(first, second) {
		a, _ := json.MarshalIndent(first, "", " ")
		b, _ := json.MarshalIndent(second, "", " ")
		t.Errorf("reads changed on the second start:\n%s\n---\n%s", a, b)
	}
	s.stop(t)
	if again := rowCounts(t, dir); !reflect.DeepEqual(counts, again) {
		t.Errorf("row counts changed on the second start:\n%v\n%v", counts, again)
	}

	// The service account logs in with OAuth, and a seeded snapshot
	// restores into a seeded cluster.
	s = start(t, dir, seedEnv(dir))
	cfg := clientcredentials.Config{ClientID: seedClientID, ClientSecret: seedSecret, TokenURL: s.base + "/api/oauth/token"}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatalf("OAuth with the seeded service account: %v", err)
	}
	bot := bearerCaller(tok.AccessToken)
	// The seeded target is a MongoDB endpoint; what it holds now goes with
	// the restore of the (empty) seeded source's snapshot.
	if code, u := bot(t, s.base, "POST", "/api/atlas/v2/groups/"+seedGroupID+"/databaseUsers", dbUserBody); code != 201 {
		t.Fatalf("create a database user in the seeded project: %d %v", code, u)
	}
	_, target := bot(t, s.base, "GET", seedClusters+"/target", "")
	targetDB := connect(t, target["connectionStrings"].(map[string]any)["standard"].(string)).Database("app")
	if _, err := targetDB.Collection("c").InsertOne(context.Background(), bson.D{{Key: "before", Value: true}}); err != nil {
		t.Fatalf("write into the seeded target: %v", err)
	}
	code, job := bot(t, s.base, "POST", seedClusters+"/source/backup/restoreJobs",
		`{"snapshotId":"`+seedSnapshotID+`","targetDeploymentItemName":"target"}`)
	if code != 200 {
		t.Fatalf("restore from the seeded snapshot as the seeded account: %d %v", code, job)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, got := bot(t, s.base, "GET", seedClusters+"/source/backup/restoreJobs/"+job["id"].(string), "")
		if got["status"] == "COMPLETED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore job did not complete: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := targetDB.Collection("c").CountDocuments(context.Background(), bson.D{}); err != nil || n != 0 {
		t.Errorf("the restore did not apply the seeded snapshot's data: %d documents left (%v)", n, err)
	}
}

// remarshal decodes from, a decoded body or a JSON text, into to.
func remarshal(t *testing.T, from, to any) {
	t.Helper()
	text, ok := from.(string)
	if !ok {
		text = toJSON(t, from)
	}
	if err := json.Unmarshal([]byte(text), to); err != nil {
		t.Fatal(err)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadSeedFileStopsStart: a fault in the seed file stops flexd with
// the file, line and field; one found by reading the file stops it before
// it creates anything.
func TestBadSeedFileStopsStart(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "organizations:\n  - name: ci\n    projects:\n      - name: app\n        colour: blue\n",
			"bad.yaml:5: organizations[0].projects[0].colour: unknown field"},
		{"region the provider lacks", "organizations:\n  - name: ci\n    projects:\n      - name: app\n        clusters:\n" +
			"          - name: c\n            providerSettings:\n              backingProviderName: AWS\n              regionName: CENTRAL_US\n",
			"bad.yaml:9: organizations[0].projects[0].clusters[0].providerSettings.regionName: "},
		{"snapshot ahead of the clock", "organizations:\n  - name: ci\n    projects:\n      - name: app\n        clusters:\n" +
			"          - name: c\n            providerSettings: {backingProviderName: AWS, regionName: US_EAST_1}\n" +
			"            snapshots:\n              - finishTime: 2999-01-01T00:00:00Z\n",
			"bad.yaml:9: organizations[0].projects[0].clusters[0].snapshots[0].finishTime: lies ahead of the clock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(tmp, "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(tmp, "data")
			env := map[string]string{"FLEXD_LISTEN": "127.0.0.1:0", "FLEXD_DATA_DIR": dir, "FLEXD_SEED": path, "FLEXD_LOG_FORMAT": "json"}
			err := Run(context.Background(), []string{"flexd", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(tmp, tc.want)) {
				t.Fatalf("run = %v, want an error containing %q", err, tc.want)
			}
			if tc.name == "unknown field" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the data directory was created (stat: %v)", err)
				}
			}
		})
	}
}
