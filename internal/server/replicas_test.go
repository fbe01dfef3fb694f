package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/postgres/pgtest"
)

// The admin credentials every replica of the tests bootstraps.
const (
	replicaClientID = "mdb_sa_id_0123456789abcdef01234567"
	replicaSecret   = "mdb_sa_sk_replicas"
	replicaPublic   = "replicas"
	replicaPrivate  = "replica-private-key"
	// replicaSecretKey seals the database's secrets: replicas share it.
	replicaSecretKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

func replicaEnv(dsn string) map[string]string {
	return map[string]string{
		"FLEXD_POSTGRES_URL": dsn, "FLEXD_AUTH": "on",
		"FLEXD_ADMIN_CLIENT_ID": replicaClientID, "FLEXD_ADMIN_CLIENT_SECRET": replicaSecret,
		"FLEXD_ADMIN_PUBLIC_KEY": replicaPublic, "FLEXD_ADMIN_PRIVATE_KEY": replicaPrivate,
		"FLEXD_PROVISION_TIME": "0s", "FLEXD_RESTORE_TIME": "2s", "FLEXD_SNAPSHOT_INTERVAL": "0s",
		"FLEXD_SECRET_KEY": replicaSecretKey,
	}
}

// bearerToken gets a token for the admin service account from base.
func bearerToken(t *testing.T, base string) string {
	t.Helper()
	cfg := clientcredentials.Config{ClientID: replicaClientID, ClientSecret: replicaSecret, TokenURL: base + "/api/oauth/token"}
	tok, err := cfg.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// call sends a request to s as the bearer of token and returns the status
// and the JSON body.
func call(t *testing.T, s *started, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	return doAuth(t, method, s.base+path, "Bearer "+token, body)
}

// must is call expecting status want.
func must(t *testing.T, s *started, token string, want int, method, path, body string) map[string]any {
	t.Helper()
	code, m := call(t, s, token, method, path, body)
	if code != want {
		t.Fatalf("%s %s on %s = %d %v, want %d", method, path, s.base, code, m, want)
	}
	return m
}

// eventually polls s until field of path reads want.
func eventually(t *testing.T, s *started, token, path, field, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, m := call(t, s, token, "GET", path, "")
		if code == 200 && m[field] == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: %d, %s is %v, want %s", path, s.base, code, field, m[field], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplicasShareOnePostgresDatabase runs two flexd replicas on one
// PostgreSQL database and checks that a write on one is what the other
// answers on its very next request, that lifecycle work done anywhere is
// seen everywhere, that a revoked credential or a used Digest count is
// refused by both, and that a replica stopped mid-restore leaves the
// restore to the other.
func TestReplicasShareOnePostgresDatabase(t *testing.T) {
	dsn := pgtest.Database(t)
	env := replicaEnv(dsn)
	// Started at the same moment on an empty database: the default
	// organization and the admin credentials must still be made once.
	a, b := launch(t, t.TempDir(), env), launch(t, t.TempDir(), env)
	a.awaitReady(t)
	b.awaitReady(t)
	tok := bearerToken(t, a.base)

	orgsA := results(must(t, a, tok, 200, "GET", "/api/atlas/v2/orgs", ""))
	orgsB := results(must(t, b, tok, 200, "GET", "/api/atlas/v2/orgs", ""))
	if len(orgsA) != 1 || len(orgsB) != 1 || orgsA[0]["id"] != orgsB[0]["id"] {
		t.Fatalf("organizations: A %v, B %v; want the one default organization", orgsA, orgsB)
	}
	orgID := orgsA[0]["id"].(string)

	// A project and clusters made on A are B's at once.
	g := must(t, a, tok, 201, "POST", "/api/atlas/v2/groups", `{"name":"replicas"}`)["id"].(string)
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters"
	for _, name := range []string{"src", "dst"} {
		made := must(t, a, tok, 201, "POST", flex, `{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
		if got := must(t, b, tok, 200, "GET", flex+"/"+name, ""); got["id"] != made["id"] {
			t.Fatalf("cluster %s on B: %v, made on A: %v", name, got, made)
		}
		eventually(t, b, tok, flex+"/"+name, "stateName", "IDLE")
	}

	// No data plane here: attaching a deployment is refused, and says why.
	if code, m := call(t, a, tok, "PUT", "/_flexd/groups/"+g+"/flexClusters/src/backend", `{"uri":"mongodb://127.0.0.1:1/"}`); code != 400 ||
		m["errorCode"] != "FEATURE_UNSUPPORTED" || !strings.Contains(m["detail"].(string), "PostgreSQL") {
		t.Errorf("PUT …/backend on PostgreSQL = %d %v, want 400 FEATURE_UNSUPPORTED naming PostgreSQL", code, m)
	}

	// A snapshot taken on A completes and shows on B.
	snap := must(t, a, tok, 201, "POST", "/_flexd/groups/"+g+"/flexClusters/src/snapshots", "")["id"].(string)
	eventually(t, b, tok, flex+"/src/backup/snapshots/"+snap, "status", "COMPLETED")

	// A restore made on B is on A's next list, and ends the same on both.
	restores := flex + "/src/backup/restoreJobs"
	must(t, a, tok, 200, "GET", restores, "") // what A could have kept
	job := must(t, b, tok, 200, "POST", restores, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"dst"}`)["id"].(string)
	if page := must(t, a, tok, 200, "GET", restores, ""); page["totalCount"] != 1.0 || results(page)[0]["id"] != job {
		t.Fatalf("A's list right after B made restore %s: %v", job, page)
	}
	done := eventually(t, a, tok, restores+"/"+job, "status", "COMPLETED")
	if onB := must(t, b, tok, 200, "GET", restores+"/"+job, ""); onB["status"] != "COMPLETED" || onB["finishedDate"] != done["finishedDate"] {
		t.Fatalf("restore on B %v, on A %v", onB, done)
	}

	// A download link made on A works on B: the artifact is in the database.
	link := must(t, a, tok, 200, "POST", flex+"/src/backup/download", `{"snapshotId":"`+snap+`"}`)["snapshotUrl"].(string)
	link, ok := strings.CutPrefix(link, a.base)
	if !ok {
		t.Fatalf("snapshotUrl %q is not on A", link)
	}
	if code, body := fetch(t, b.base+link); code != 200 || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Fatalf("download on B: %d, %d bytes", code, len(body))
	}

	// A token revoked on A is refused by B on the very next request.
	tok2 := bearerToken(t, a.base)
	must(t, b, tok2, 200, "GET", "/api/atlas/v2/groups", "")
	revokeToken(t, a.base, tok2)
	if code, _ := call(t, b, tok2, "GET", "/api/atlas/v2/groups", ""); code != 401 {
		t.Fatalf("a token revoked on A: %d on B, want 401", code)
	}

	// So is an API key deleted on A.
	key := must(t, a, tok, 200, "POST", "/api/atlas/v2/orgs/"+orgID+"/apiKeys", `{"desc":"replica test","roles":["ORG_OWNER"]}`)
	pub, priv := key["publicKey"].(string), key["privateKey"].(string)
	if code := digestGet(t, b.base, "/api/atlas/v2/orgs", pub, priv); code != 200 {
		t.Fatalf("an API key made on A: %d on B", code)
	}
	must(t, a, tok, 204, "DELETE", "/api/atlas/v2/orgs/"+orgID+"/apiKeys/"+key["id"].(string), "")
	if code := digestGet(t, b.base, "/api/atlas/v2/orgs", pub, priv); code != 401 {
		t.Fatalf("an API key deleted on A: %d on B, want 401", code)
	}

	// A Digest answer accepted by A is a replay on B; the nonce's next
	// count is fine there (the nonce key is shared).
	nonce := challengeNonce(t, a.base)
	signed := digestHeader(replicaPublic, replicaPrivate, "/api/atlas/v2/orgs", nonce, 1)
	if code, _ := get(t, a.base, "/api/atlas/v2/orgs", signed); code != 200 {
		t.Fatalf("Digest on A: %d", code)
	}
	if code, _ := get(t, b.base, "/api/atlas/v2/orgs", signed); code != 401 {
		t.Fatalf("the same (nonce, nc) replayed on B: %d, want 401", code)
	}
	if code, _ := get(t, b.base, "/api/atlas/v2/orgs", digestHeader(replicaPublic, replicaPrivate, "/api/atlas/v2/orgs", nonce, 2)); code != 200 {
		t.Fatalf("A's nonce with the next count on B: %d, want 200", code)
	}

	// B's metrics watch both pools.
	if code, body := fetch(t, b.base+"/metrics"); code != 200 ||
		!strings.Contains(body, `go_sql_open_connections{db_name="flexd"}`) || !strings.Contains(body, `flexd_pgxpool_max_connections{pool="queue"} 8`) {
		t.Errorf("metrics on B: %d, without the store's and the queue's pools", code)
	}

	// A stops while a restore runs; B finishes it.
	job = must(t, a, tok, 200, "POST", restores, `{"snapshotId":"`+snap+`","targetDeploymentItemName":"dst"}`)["id"].(string)
	eventually(t, a, tok, restores+"/"+job, "status", "RUNNING")
	a.stop(t)
	if st := must(t, b, tok, 200, "GET", restores+"/"+job, "")["status"]; st != "RUNNING" {
		t.Logf("the restore was %v when A had stopped: B had nothing left to finish", st)
	}
	eventually(t, b, tok, restores+"/"+job, "status", "COMPLETED")
	eventually(t, b, tok, flex+"/dst", "stateName", "IDLE")
}

// TestManualClockNeedsPostgresToItself checks that a manual clock refuses
// to share a database with other replicas, and the other way round.
func TestManualClockNeedsPostgresToItself(t *testing.T) {
	dsn := pgtest.Database(t)
	env := replicaEnv(dsn)
	manual := map[string]string{"FLEXD_CLOCK": "manual"}
	for k, v := range env {
		manual[k] = v
	}
	serveErr := func(env map[string]string) error {
		env["FLEXD_DATA_DIR"], env["FLEXD_LISTEN"] = t.TempDir(), "127.0.0.1:0"
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		return Run(ctx, []string{"flexd", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}

	real := start(t, t.TempDir(), env)
	if err := serveErr(manual); !errors.Is(err, errManualClockShared) {
		t.Fatalf("a manual clock beside a running replica: %v", err)
	}
	real.stop(t)

	m := start(t, t.TempDir(), manual)
	if err := serveErr(env); !errors.Is(err, errManualClockShared) {
		t.Fatalf("a replica beside a manual clock: %v", err)
	}
	tok := bearerToken(t, m.base)
	if got := must(t, m, tok, 200, "POST", "/_flexd/clock:advance", `{"by":"1h"}`); got["manual"] != true {
		t.Fatalf("advance: %v", got)
	}
}

// TestPostgresFlags checks that --help explains the PostgreSQL mode.
func TestPostgresFlags(t *testing.T) {
	var help strings.Builder
	secretURL := "postgres://flexd:s3cret-password@db:5432/flexd"
	env := func(k string) string {
		if k == "FLEXD_POSTGRES_URL" {
			return secretURL
		}
		return ""
	}
	_ = Run(context.Background(), []string{"flexd", "serve", "--help"}, env, io.Discard, &help)
	if strings.Contains(help.String(), "s3cret-password") {
		t.Errorf("--help shows the password of FLEXD_POSTGRES_URL:\n%s", help.String())
	}
	c, err := parseServeFlags(nil, env, io.Discard)
	if err != nil || c.postgresURL != secretURL {
		t.Errorf("FLEXD_POSTGRES_URL not taken: %v %q", err, c.postgresURL)
	}
	c, err = parseServeFlags([]string{"--postgres-url", "postgres://other"}, env, io.Discard)
	if err != nil || c.postgresURL != "postgres://other" {
		t.Errorf("--postgres-url does not win over the variable: %v %q", err, c.postgresURL)
	}
	for _, want := range []string{"-postgres-url", "FLEXD_POSTGRES_URL", "unused with --postgres-url", "never with --postgres-url"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("serve --help does not say %q:\n%s", want, help.String())
		}
	}
}

func doAuth(t *testing.T, method, url, authorization, body string) (int, map[string]any) {
	t.Helper()
	res := testkit.Do(t, testkit.Request(t, method, url, body, authorization))
	m, _ := res.Object()
	return res.Status, m
}

// fetch GETs url without credentials and returns the status and body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// revokeToken revokes token at base's /api/oauth/revoke.
func revokeToken(t *testing.T, base, token string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/oauth/revoke", strings.NewReader("token="+token+"&token_type_hint=access_token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(replicaClientID, replicaSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
}

// results is a list body's items.
func results(page map[string]any) []map[string]any {
	var out []map[string]any
	items, _ := page["results"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
