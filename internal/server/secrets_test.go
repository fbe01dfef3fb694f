package server

import (
	"bytes"
	"context"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/credential"
	"github.com/flexd/flexd/internal/testkit"
	"github.com/flexd/flexd/postgres/pgtest"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
)

// legacyDataDir makes a data directory as flexd made it before secrets
// were sealed: world-readable, with an API key's HA1 values and the nonce
// key in clear in the database. It returns what must not stay there.
func legacyDataDir(t *testing.T, dir string) (public, private string, plain []string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(store, nil, nil, service.Config{SecretCost: bcrypt.MinCost})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAdminAPIKey(ctx, svc.DefaultOrgID(), "made before sealing")
	if err != nil {
		t.Fatal(err)
	}
	nonceKey, err := auth.NonceKey(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	plain = []string{
		credential.HA1(credential.AlgorithmMD5, k.PublicKey, k.PrivateKey),
		credential.HA1(credential.AlgorithmSHA256, k.PublicKey, k.PrivateKey),
		string(hexBytes(nonceKey)),
	}
	for _, p := range plain {
		if !bytes.Contains(databaseBytes(t, dir), []byte(p)) {
			t.Fatal("the legacy database does not hold its secrets in clear: the test proves nothing")
		}
	}
	_ = os.Chmod(dir, 0o755)
	_ = os.Chmod(filepath.Join(dir, "flexd.db"), 0o644)
	return k.PublicKey, k.PrivateKey, plain
}

func hexBytes(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

// databaseBytes is everything SQLite keeps of dir's database: the file,
// its WAL and its shared memory.
func databaseBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var data []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(filepath.Join(dir, "flexd.db"+suffix))
		if err == nil {
			data = append(data, b...)
		}
	}
	return data
}

// bearerCall sends an API request with a bearer token and decodes the body.
func bearerCall(t *testing.T, token, method, url, body string) (int, map[string]any) {
	t.Helper()
	return doAuth(t, method, url, "Bearer "+token, body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, 30*time.Second, cond)
}

// TestDatabaseCopyGrantsNothing: a data directory of an earlier flexd is
// made private at start (0700, files 0600, with a warning), its HA1
// values and nonce key are sealed under a key kept in a file beside the
// database, and download tokens are stored as digests. Neither the
// database nor its WAL then holds any HA1, the nonce key, a download or
// access token, or a private key in clear; and a copy of the database
// without the key file does not start. Before, all of them were in clear
// and the directory was world-readable.
func TestDatabaseCopyGrantsNothing(t *testing.T) {
	dir := t.TempDir()
	public, private, plain := legacyDataDir(t, dir)
	clientID, secret := credential.NewClientID(), credential.NewClientSecret()
	s := start(t, dir, map[string]string{"FLEXD_AUTH": "on", "FLEXD_PROVISION_TIME": "0s", "FLEXD_RESTORE_TIME": "0s",
		"FLEXD_ADMIN_CLIENT_ID": clientID, "FLEXD_ADMIN_CLIENT_SECRET": secret})

	for path, want := range map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, "flexd.db"): 0o600,
		filepath.Join(dir, secretKeyFile): 0o600, filepath.Join(dir, "flexd.db-wal"): 0o600} {
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, info.Mode().Perm(), err, want)
		}
	}
	if logs := s.logs.String(); !strings.Contains(logs, "made it 0700") || !strings.Contains(logs, "made it 0600") {
		t.Errorf("no warning about the loose modes:\n%s", logs)
	}

	// The key made before still signs requests: its HA1 was sealed, not lost.
	if code := digestGet(t, s.base, "/api/atlas/v2/orgs", public, private); code != 200 {
		t.Fatalf("the earlier API key after sealing: %d", code)
	}
	tok, err := (&clientcredentials.Config{ClientID: clientID, ClientSecret: secret,
		TokenURL: s.base + "/api/oauth/token"}).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	api := s.base + "/api/atlas/v2"
	code, p := bearerCall(t, tok.AccessToken, "POST", api+"/groups", `{"name":"sealed"}`)
	if code != 200 && code != 201 {
		t.Fatalf("create project: %d %v", code, p)
	}
	g := p["id"].(string)
	code, _ = bearerCall(t, tok.AccessToken, "POST", api+"/groups/"+g+"/flexClusters",
		`{"name":"c","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	if code != 201 {
		t.Fatalf("create cluster: %d", code)
	}
	cluster := api + "/groups/" + g + "/flexClusters/c"
	waitFor(t, "cluster IDLE", func() bool {
		_, c := bearerCall(t, tok.AccessToken, "GET", cluster, "")
		return c["stateName"] == "IDLE"
	})
	code, snap := bearerCall(t, tok.AccessToken, "POST", s.base+"/_flexd/groups/"+g+"/flexClusters/c/snapshots", "")
	if code != 201 {
		t.Fatalf("take snapshot: %d %v", code, snap)
	}
	snapID := snap["id"].(string)
	waitFor(t, "snapshot COMPLETED", func() bool {
		_, sn := bearerCall(t, tok.AccessToken, "GET", cluster+"/backup/snapshots/"+snapID, "")
		return sn["status"] == "COMPLETED"
	})
	code, dl := bearerCall(t, tok.AccessToken, "POST", cluster+"/backup/download", `{"snapshotId":"`+snapID+`"}`)
	if code != 200 {
		t.Fatalf("download: %d %v", code, dl)
	}
	url := dl["snapshotUrl"].(string)
	downloadToken := url[strings.LastIndex(url, "/")+1:]
	// The link works, and a GET of the job shows the same one.
	if res, err := http.Get(url); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET the download link: %v %v", res, err)
	}
	if _, again := bearerCall(t, tok.AccessToken, "GET", cluster+"/backup/restoreJobs/"+dl["id"].(string), ""); again["snapshotUrl"] != url {
		t.Errorf("the job shows %v, was created with %s", again["snapshotUrl"], url)
	}
	s.stop(t)

	key, err := os.ReadFile(filepath.Join(dir, secretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	data := databaseBytes(t, dir)
	for what, v := range map[string]string{"HA1 (MD5)": plain[0], "HA1 (SHA-256)": plain[1], "nonce key": plain[2],
		"download token": downloadToken, "access token": tok.AccessToken, "private key": private,
		"client secret": secret, "secret key": strings.TrimSpace(string(key))} {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("the database or its WAL holds the %s in clear", what)
		}
	}

	// A copy of the database alone: flexd refuses it rather than making a
	// new key, and nothing in it opens.
	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, "flexd.db"), mustRead(t, filepath.Join(dir, "flexd.db")), 0o600); err != nil {
		t.Fatal(err)
	}
	c := launch(t, copyDir, map[string]string{"FLEXD_AUTH": "on"})
	select {
	case err := <-c.done:
		c.cancel, c.done = nil, nil
		if err == nil || !strings.Contains(err.Error(), "secret key") {
			t.Errorf("flexd on a copy of the database without its key: %v, want a refusal naming the secret key", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("flexd serves a copy of the database without its key; logs:\n%s", c.logs.String())
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplicasNeedTheSameSecretKey: on PostgreSQL the sealed secrets are
// shared, so a replica started with another key is refused at start with
// a message naming the setting, instead of failing every Digest login.
func TestReplicasNeedTheSameSecretKey(t *testing.T) {
	env := replicaEnv(pgtest.Database(t))
	start(t, t.TempDir(), env)
	other := maps.Clone(env)
	other["FLEXD_SECRET_KEY"] = strings.Repeat("ab", 32)
	s := launch(t, t.TempDir(), other)
	select {
	case err := <-s.done:
		s.cancel, s.done = nil, nil
		if err == nil || !strings.Contains(err.Error(), "FLEXD_SECRET_KEY") {
			t.Errorf("a replica with another key: %v, want a refusal naming FLEXD_SECRET_KEY", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("a replica with another secret key serves; logs:\n%s", s.logs.String())
	}
}
