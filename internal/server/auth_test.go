package server

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/flexd/flexd/internal/testkit"
)

// digestGet sends GET path as the Atlas SDK does with an API key: once
// without credentials, then with the Digest answer (RFC 7616, MD5) to the
// challenge. It returns the final status.
func digestGet(t *testing.T, base, path, public, private string) int {
	t.Helper()
	code, _ := get(t, base, path, "")
	if code != http.StatusUnauthorized {
		return code
	}
	code, _ = get(t, base, path, digestHeader(public, private, path, challengeNonce(t, base), 1))
	return code
}

// get sends GET path with an Authorization header (none when empty).
func get(t *testing.T, base, path, authorization string) (int, http.Header) {
	t.Helper()
	res := testkit.Do(t, testkit.Request(t, "GET", base+path, "", authorization))
	return res.Status, res.Header
}

// challengeNonce returns the nonce of a fresh Digest challenge.
func challengeNonce(t *testing.T, base string) string {
	t.Helper()
	_, h := get(t, base, "/api/atlas/v2/orgs", "")
	m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(h.Get("WWW-Authenticate"))
	if m == nil {
		t.Fatalf("401 without a Digest challenge: %q", h.Get("WWW-Authenticate"))
	}
	return m[1]
}

// digestHeader answers nonce for GET uri, by RFC 7616 with MD5 and qop=auth.
func digestHeader(public, private, uri, nonce string, nc int) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	const realm, cnonce = "MMS Public API", "0a4f113b0a4f113b"
	ncs := fmt.Sprintf("%08x", nc)
	response := h(h(public+":"+realm+":"+private) + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + h("GET:"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
		public, realm, nonce, uri, response, ncs, cnonce)
}

func TestAuthIsOnByDefault(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, map[string]string{"FLEXD_AUTH": ""})
	code, body := do(t, "GET", s.base+"/api/atlas/v2/groups", "")
	if code != 401 || body["errorCode"] != "UNEXPECTED_ERROR" {
		t.Fatalf("GET /groups without credentials = %d %v", code, body)
	}

	// No credential existed: flexd made an admin key and says where it is.
	path := filepath.Join(dir, adminKeyFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no admin key file: %v; logs:\n%s", err, s.logs.String())
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("admin key file mode %v, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	pub := regexp.MustCompile(`MONGODB_ATLAS_PUBLIC_API_KEY=([a-z]{8})\n`).FindSubmatch(data)
	priv := regexp.MustCompile(`MONGODB_ATLAS_PRIVATE_API_KEY=([0-9a-f-]{36})\n`).FindSubmatch(data)
	if pub == nil || priv == nil {
		t.Fatalf("admin key file:\n%s", data)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, string(pub[1])) || !strings.Contains(logs, path) || strings.Contains(logs, string(priv[1])) {
		t.Errorf("the log must name the public key and the file, never the private key:\n%s", logs)
	}
	if code := digestGet(t, s.base, "/api/atlas/v2/groups", string(pub[1]), string(priv[1])); code != 200 {
		t.Fatalf("the generated key: %d", code)
	}
	if db, _ := os.ReadFile(filepath.Join(dir, "flexd.db")); strings.Contains(string(db), string(priv[1])) {
		t.Error("the private key is in the database")
	}
	s.stop(t)

	// A restart finds the credential and creates nothing.
	s2 := start(t, dir, map[string]string{"FLEXD_AUTH": ""})
	if again, _ := os.ReadFile(path); string(again) != string(data) {
		t.Error("the admin key file changed on restart")
	}
	if strings.Contains(s2.logs.String(), "created an admin API key") {
		t.Error("a second admin key was created on restart")
	}
	if code := digestGet(t, s2.base, "/api/atlas/v2/groups", string(pub[1]), string(priv[1])); code != 200 {
		t.Fatalf("the generated key after restart: %d", code)
	}
}

func TestBootstrapAPIKeyFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FLEXD_AUTH": "on", "FLEXD_ADMIN_PUBLIC_KEY": "adminkey", "FLEXD_ADMIN_PRIVATE_KEY": "first-private-key"}
	s := start(t, dir, env)
	if code := digestGet(t, s.base, "/api/atlas/v2/orgs", "adminkey", "first-private-key"); code != 200 {
		t.Fatalf("bootstrap key: %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, adminKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("an admin key file was written although credentials were given")
	}
	if strings.Contains(s.logs.String(), "first-private-key") {
		t.Error("the private key reached the logs")
	}
	// A request signed before the restart, to replay after it.
	nonce := challengeNonce(t, s.base)
	signed := digestHeader("adminkey", "first-private-key", "/api/atlas/v2/orgs", nonce, 1)
	if code, _ := get(t, s.base, "/api/atlas/v2/orgs", signed); code != 200 {
		t.Fatalf("signed request: %d", code)
	}
	s.stop(t)

	// Same credentials: unchanged. The used nonces were counted in memory
	// (the data directory is locked), so every nonce from before the
	// restart is refused as stale, the replay first of all; the client's
	// fresh handshake works.
	s = start(t, dir, env)
	if !strings.Contains(s.logs.String(), `"outcome":"unchanged"`) {
		t.Errorf("restart with the same key:\n%s", s.logs.String())
	}
	for name, h := range map[string]string{
		"a replay after restart":                        signed,
		"a nonce issued before the restart, next count": digestHeader("adminkey", "first-private-key", "/api/atlas/v2/orgs", nonce, 2),
	} {
		if code, hdr := get(t, s.base, "/api/atlas/v2/orgs", h); code != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), "stale=true") {
			t.Errorf("%s: %d %q, want 401 with stale=true", name, code, hdr.Get("WWW-Authenticate"))
		}
	}
	if code := digestGet(t, s.base, "/api/atlas/v2/orgs", "adminkey", "first-private-key"); code != 200 {
		t.Errorf("a fresh handshake after restart: %d", code)
	}
	s.stop(t)

	// Without the lock (a shared store) the used nonces are in the
	// store: they survive the restart, so the replay is refused and the
	// nonce's next count accepted.
	shared := map[string]string{"FLEXD_READ_CACHE": "false"}
	for k, v := range env {
		shared[k] = v
	}
	s = start(t, dir, shared)
	nonce = challengeNonce(t, s.base)
	signed = digestHeader("adminkey", "first-private-key", "/api/atlas/v2/orgs", nonce, 1)
	if code, _ := get(t, s.base, "/api/atlas/v2/orgs", signed); code != 200 {
		t.Fatalf("signed request, shared store: %d", code)
	}
	s.stop(t)
	s = start(t, dir, shared)
	if code, _ := get(t, s.base, "/api/atlas/v2/orgs", signed); code != 401 {
		t.Errorf("a replay after restart, shared store: %d, want 401", code)
	}
	if code, _ := get(t, s.base, "/api/atlas/v2/orgs", digestHeader("adminkey", "first-private-key", "/api/atlas/v2/orgs", nonce, 2)); code != 200 {
		t.Errorf("a nonce issued before the restart, shared store: %d, want 200", code)
	}
	s.stop(t)

	// A new private key: the old one stops working.
	env["FLEXD_ADMIN_PRIVATE_KEY"] = "second-private-key"
	s = start(t, dir, env)
	if code := digestGet(t, s.base, "/api/atlas/v2/orgs", "adminkey", "first-private-key"); code != 401 {
		t.Errorf("the replaced private key: %d, want 401", code)
	}
	if code := digestGet(t, s.base, "/api/atlas/v2/orgs", "adminkey", "second-private-key"); code != 200 {
		t.Errorf("the new private key: %d", code)
	}
}

func TestBootstrapServiceAccountFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	const clientID = "mdb_sa_id_0123456789abcdef01234567"
	env := map[string]string{"FLEXD_AUTH": "on", "FLEXD_ADMIN_CLIENT_ID": clientID, "FLEXD_ADMIN_CLIENT_SECRET": "mdb_sa_sk_first"}
	token := func(base, secret string) (string, error) {
		cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: base + "/api/oauth/token"}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
	status := func(base, tok string) int {
		code, _ := get(t, base, "/api/atlas/v2/groups", "Bearer "+tok)
		return code
	}
	s := start(t, dir, env)
	kept, err := token(s.base, "mdb_sa_sk_first")
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := token(s.base, "mdb_sa_sk_first")
	if err != nil {
		t.Fatal(err)
	}
	if status(s.base, kept) != 200 || status(s.base, revoked) != 200 {
		t.Fatal("the admin account's tokens do not work")
	}
	req, _ := http.NewRequest("POST", s.base+"/api/oauth/revoke", strings.NewReader("token="+revoked+"&token_type_hint=access_token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, "mdb_sa_sk_first")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || status(s.base, revoked) != 401 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	s.stop(t)

	// Tokens and revocations survive a restart.
	s = start(t, dir, env)
	if status(s.base, kept) != 200 || status(s.base, revoked) != 401 {
		t.Errorf("after restart: kept %d, revoked %d", status(s.base, kept), status(s.base, revoked))
	}
	s.stop(t)

	// A changed secret replaces the old one and revokes its tokens.
	env["FLEXD_ADMIN_CLIENT_SECRET"] = "mdb_sa_sk_second"
	s = start(t, dir, env)
	if _, err := token(s.base, "mdb_sa_sk_first"); err == nil {
		t.Error("the replaced secret still gets tokens")
	}
	if _, err := token(s.base, "mdb_sa_sk_second"); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	if code := status(s.base, kept); code != 401 {
		t.Errorf("a token of the replaced secret: %d, want 401", code)
	}
	if strings.Contains(s.logs.String(), "mdb_sa_sk_") {
		t.Error("a secret reached the logs")
	}
}

func TestAuthConfiguration(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, bad := range []map[string]string{
		{"FLEXD_AUTH": "maybe"},
		{"FLEXD_AUTH_FAILURE_LIMIT": "0"},
		{"FLEXD_ADMIN_PUBLIC_KEY": "adminkey"},
		{"FLEXD_ADMIN_PUBLIC_KEY": "Not8Lower", "FLEXD_ADMIN_PRIVATE_KEY": "x"},
		{"FLEXD_ADMIN_CLIENT_ID": "nope", "FLEXD_ADMIN_CLIENT_SECRET": "x"},
	} {
		bad["FLEXD_DATA_DIR"] = t.TempDir()
		bad["FLEXD_LISTEN"] = "127.0.0.1:0"
		if err := Run(context.Background(), []string{"flexd", "serve"}, env(bad), io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", bad, err)
		}
	}
	var help strings.Builder
	_ = Run(context.Background(), []string{"flexd", "serve", "--help"}, env(nil), io.Discard, &help)
	for _, f := range []string{"-auth", "FLEXD_AUTH", "-auth-failure-limit", "FLEXD_AUTH_FAILURE_LIMIT", "-token-rate-limit", "FLEXD_TOKEN_RATE_LIMIT"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("serve --help does not mention %s", f)
		}
	}
}
