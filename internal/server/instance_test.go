package server

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// caller signs one request the way an official client does.
type caller func(t *testing.T, base, method, path, body string) (int, map[string]any)

// bearerCaller signs with a service account's token.
func bearerCaller(token string) caller {
	return func(t *testing.T, base, method, path, body string) (int, map[string]any) {
		t.Helper()
		return send(t, base, method, path, body, "Bearer "+token)
	}
}

// digestCaller answers a fresh challenge for each request (RFC 7616, MD5),
// for any method.
func digestCaller(public, private string) caller {
	return func(t *testing.T, base, method, path, body string) (int, map[string]any) {
		t.Helper()
		h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
		const realm, cnonce, nc = "MMS Public API", "0a4f113b0a4f113b", "00000001"
		nonce := challengeNonce(t, base)
		response := h(h(public+":"+realm+":"+private) + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + h(method+":"+path))
		authz := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="%s"`,
			public, realm, nonce, path, response, nc, cnonce)
		return send(t, base, method, path, body, authz)
	}
}

func send(t *testing.T, base, method, path, body, authorization string) (int, map[string]any) {
	t.Helper()
	return doAuth(t, method, base+path, authorization, body)
}

// TestInstanceAdministratorAndReset runs flexd as an operator would: the
// bootstrap service account is the instance administrator, creates an
// organization for team B and alone reads or moves the clock; team B's
// owner resets only its own organization, the administrator everything.
func TestInstanceAdministratorAndReset(t *testing.T) {
	const clientID, secret = "mdb_sa_id_00112233445566778899aabb", "mdb_sa_sk_instance"
	s := start(t, t.TempDir(), map[string]string{"FLEXD_AUTH": "on", "FLEXD_CLOCK": "manual",
		"FLEXD_ADMIN_CLIENT_ID": clientID, "FLEXD_ADMIN_CLIENT_SECRET": secret})
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: s.base + "/api/oauth/token"}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	admin := bearerCaller(tok.AccessToken)
	must := func(who caller, want int, method, path, body string) map[string]any {
		t.Helper()
		code, m := who(t, s.base, method, path, body)
		if code != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, code, m, want)
		}
		return m
	}
	const v2 = "/api/atlas/v2"
	cluster := `{"name":"c1","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`

	created := must(admin, 201, "POST", v2+"/orgs", `{"name":"team-b","apiKey":{"desc":"team b","roles":["ORG_OWNER"]}}`)
	key := created["apiKey"].(map[string]any)
	teamB := digestCaller(key["publicKey"].(string), key["privateKey"].(string))

	a := must(admin, 201, "POST", v2+"/groups", `{"name":"a-project"}`)["id"].(string)
	must(admin, 201, "POST", v2+"/groups/"+a+"/flexClusters", cluster)
	b := must(teamB, 201, "POST", v2+"/groups", `{"name":"b-project"}`)["id"].(string)
	must(teamB, 201, "POST", v2+"/groups/"+b+"/flexClusters", cluster)

	// An ORG_GROUP_CREATOR of team B owns the project it creates, at once
	// (the served store caches reads: the grant must show on the next
	// request).
	ck := must(teamB, 200, "POST", v2+"/orgs/"+created["organization"].(map[string]any)["id"].(string)+"/apiKeys",
		`{"desc":"creator","roles":["ORG_GROUP_CREATOR"]}`)
	creator := digestCaller(ck["publicKey"].(string), ck["privateKey"].(string))
	mine := must(creator, 201, "POST", v2+"/groups", `{"name":"creators-project"}`)["id"].(string)
	must(creator, 200, "GET", v2+"/groups/"+mine, "")
	must(creator, 201, "POST", v2+"/groups/"+mine+"/flexClusters", cluster)

	// The clock is the instance's: only its administrator reads or moves it.
	must(teamB, 401, "GET", "/_flexd/clock", "")
	must(teamB, 401, "POST", "/_flexd/clock:advance", `{"by":"1h"}`)
	must(admin, 200, "GET", "/_flexd/clock", "")
	must(admin, 200, "POST", "/_flexd/clock:advance", `{"by":"1h"}`)

	// Team B's reset clears team B.
	must(teamB, 204, "POST", "/_flexd/reset", "")
	if m := must(teamB, 200, "GET", v2+"/groups", ""); m["totalCount"] != 0.0 {
		t.Errorf("team B after its reset: %v", m)
	}
	if m := must(admin, 200, "GET", v2+"/groups/"+a+"/flexClusters", ""); m["totalCount"] != 1.0 {
		t.Errorf("team B's reset touched the default organization: %v", m)
	}

	// The administrator's clears everything.
	b = must(teamB, 201, "POST", v2+"/groups", `{"name":"b-project"}`)["id"].(string)
	must(admin, 204, "POST", "/_flexd/reset", "")
	for who, c := range map[string]caller{"admin": admin, "team B": teamB} {
		if m := must(c, 200, "GET", v2+"/groups", ""); m["totalCount"] != 0.0 {
			t.Errorf("%s after the administrator's reset: %v", who, m)
		}
	}
	must(admin, 404, "GET", v2+"/groups/"+b, "")
}

// TestGeneratedKeyIsInstanceAdministrator: the key flexd writes at a first
// start without credentials may create organizations.
func TestGeneratedKeyIsInstanceAdministrator(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, map[string]string{"FLEXD_AUTH": "on"})
	data, err := os.ReadFile(filepath.Join(dir, adminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub := regexp.MustCompile(`MONGODB_ATLAS_PUBLIC_API_KEY=([a-z]{8})\n`).FindSubmatch(data)
	priv := regexp.MustCompile(`MONGODB_ATLAS_PRIVATE_API_KEY=([0-9a-f-]{36})\n`).FindSubmatch(data)
	if pub == nil || priv == nil {
		t.Fatalf("admin key file:\n%s", data)
	}
	admin := digestCaller(string(pub[1]), string(priv[1]))
	if code, m := admin(t, s.base, "POST", "/api/atlas/v2/orgs", `{"name":"team-c"}`); code != 201 {
		t.Fatalf("POST /orgs with the generated key: %d %v", code, m)
	}
}
