package atlasapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/flexd/flexd/jobs"
)

const orgsPath = "/api/atlas/v2/orgs"

// rawCall sends a request with exactly the Authorization header given.
func (h *idHarness) rawCall(method, path, authorization string) *response {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.base+path, nil)
	req.Header.Set("Accept", keyAccept)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res := h.send(h.t, req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, header: res.Header, body: body}
}

// challenge returns a fresh nonce from a request without credentials.
func (h *idHarness) nonce() string {
	h.t.Helper()
	res := h.rawCall("GET", orgsPath, "")
	h.unauthorized(res, "no credentials")
	return parseChallenge(h.t, res.header.Get("WWW-Authenticate"))["nonce"]
}

func TestDigest(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	uri := orgsPath + "?pretty=false"

	// MD5 and SHA-256, as the SDK's digest transport does it.
	for _, alg := range []string{"MD5", "SHA-256"} {
		m := h.ok(digestCaller{h.admin, alg}, 200, "GET", orgsPath, "")
		if r := results(m); len(r) != 1 || r[0].(map[string]any)["id"] != h.orgID {
			t.Fatalf("%s: orgs %v", alg, m)
		}
	}

	// Every failure is the same exact 401 with a fresh challenge.
	h.unauthorized(h.rawCall("GET", uri, ""), "no Authorization")
	h.unauthorized(h.rawCall("GET", uri, "Basic YWJjOmRlZg=="), "Basic")
	h.unauthorized(h.rawCall("GET", uri, "Digest garbage"), "malformed Digest")

	n := h.nonce()
	good := digestAuthorization(h.admin, "MD5", "GET", uri, n, 1, newCnonce())
	if res := h.rawCall("GET", uri, good); res.status != 200 {
		t.Fatalf("signed request: %d %s", res.status, res.body)
	}
	// Replay: the same (nonce, nc) is accepted once.
	if stale := h.unauthorized(h.rawCall("GET", uri, good), "replay"); stale != "false" {
		t.Errorf("replay answered stale=%s", stale)
	}
	// The next nc of the same nonce is a new request.
	next := digestAuthorization(h.admin, "MD5", "GET", uri, n, 2, newCnonce())
	if res := h.rawCall("GET", uri, next); res.status != 200 {
		t.Fatalf("nc=2: %d %s", res.status, res.body)
	}
	// Wrong URI: signed for another resource.
	n = h.nonce()
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(h.admin, "MD5", "GET", orgsPath+"/"+h.orgID, n, 1, newCnonce())), "wrong uri")
	// Wrong method in the signature.
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(h.admin, "MD5", "DELETE", uri, n, 1, newCnonce())), "wrong method")
	// Wrong password, unknown user.
	wrong := digestCreds{h.admin.public, h.admin.private + "x"}
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(wrong, "MD5", "GET", uri, n, 1, newCnonce())), "wrong password")
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(digestCreds{"nobodyxx", "p"}, "MD5", "GET", uri, n, 1, newCnonce())), "unknown user")
	// A forged nonce.
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(h.admin, "MD5", "GET", uri, "bm90LW91cnM", 1, newCnonce())), "forged nonce")
	// Stale: the right key with a nonce past its 5 minutes gets stale=true.
	n = h.nonce()
	advance(h.clock, 6*time.Minute)
	if stale := h.unauthorized(h.rawCall("GET", uri, digestAuthorization(h.admin, "SHA-256", "GET", uri, n, 1, newCnonce())), "stale"); stale != "true" {
		t.Errorf("stale nonce answered stale=%s, want true", stale)
	}
	// The SDK escapes path parameters and signs the escaped URI.
	escaped := orgsPath + "/a%2Fb"
	n = h.nonce()
	if res := h.rawCall("GET", escaped, digestAuthorization(h.admin, "MD5", "GET", escaped, n, 1, newCnonce())); res.status != 404 || !strings.Contains(string(res.body), "INVALID_ORG_ID") {
		t.Errorf("escaped path: %d %s", res.status, res.body)
	}

	// A deleted key fails at once.
	id, creds := h.newKey(h.orgID, "ORG_READ_ONLY")
	h.ok(digestCaller{creds, "MD5"}, 200, "GET", orgsPath, "")
	h.ok(h.adminDigest(), 204, "DELETE", orgsPath+"/"+h.orgID+"/apiKeys/"+id, "")
	h.unauthorized(h.call(digestCaller{creds, "MD5"}, "GET", orgsPath, "", ""), "deleted key")

	// Failures are logged with a reason, never with what the client sent.
	logs := h.logs.String()
	for _, reason := range []string{"replay", "wrong_uri", "wrong_response", "unknown_user", "forged_nonce", "stale_nonce"} {
		if !strings.Contains(logs, `"reason":"`+reason+`"`) {
			t.Errorf("no failure logged with reason %s", reason)
		}
	}
	if strings.Contains(logs, h.admin.private) || strings.Contains(logs, creds.private) {
		t.Error("a private key reached the logs")
	}
}

// TestFailedLoginsAreRateLimited: failures are throttled per address and
// claimed identity, and valid credentials are always accepted. Before, the
// per-IP limit was checked before the credentials, so once anybody behind
// an address (a NAT, a CI runner) failed 3 times, the right key got 429.
func TestFailedLoginsAreRateLimited(t *testing.T) {
	h := newIDHarness(t, idOptions{failureLimit: 3, tokenLimit: 2})
	uri := orgsPath
	wrong := digestCreds{h.admin.public, "not-the-key"}
	for range 3 {
		h.unauthorized(h.rawCall("GET", uri, digestAuthorization(wrong, "MD5", "GET", uri, h.nonce(), 1, newCnonce())), "wrong key")
	}
	res := h.rawCall("GET", uri, digestAuthorization(wrong, "MD5", "GET", uri, h.nonce(), 1, newCnonce()))
	if res.status != 429 || res.header.Get("Retry-After") != "20" ||
		string(res.body) != `{"detail":"Resource /api/atlas/v2/orgs is limited to 3 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["/api/atlas/v2/orgs",3,1],"reason":"Too Many Requests"}` {
		t.Fatalf("4th failure: %d %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	// The right key, from the same address, is accepted at once.
	h.ok(h.adminDigest(), 200, "GET", uri, "")
	// So are valid Bearer tokens, and another identity's failures are its own.
	other := digestCreds{"zzzzzzzz", "not-a-key"}
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(other, "MD5", "GET", uri, h.nonce(), 1, newCnonce())), "other identity")
	advance(h.clock, 20*time.Second)
	h.unauthorized(h.rawCall("GET", uri, digestAuthorization(wrong, "MD5", "GET", uri, h.nonce(), 1, newCnonce())), "one token back")

	// The token endpoint allows tokenLimit requests per client a minute.
	sa := h.ok(h.adminDigest(), 201, "POST", orgsPath+"/"+h.orgID+"/serviceAccounts",
		`{"name":"limited","description":"d","roles":["ORG_READ_ONLY"],"secretExpiresAfterHours":8}`)
	cfg := tokenConfig(h, sa["clientId"].(string), secretOf(sa))
	for range 2 {
		if _, err := cfg.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sa2 := h.ok(h.adminDigest(), 201, "POST", orgsPath+"/"+h.orgID+"/serviceAccounts",
		`{"name":"bearer","description":"d","roles":["ORG_READ_ONLY"],"secretExpiresAfterHours":8}`)
	h.ok(h.token(sa2["clientId"].(string), secretOf(sa2)), 200, "GET", uri, "")
	_, err := cfg.Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 429 || re.Response.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(re.Body), `"errorCode":"RATE_LIMITED"`) {
		t.Fatalf("third token request: %v", err)
	}
}

// TestTokenEndpointWrongMethod: GET /api/oauth/token is a 405 in Atlas's
// shape, naming POST; it got a Digest challenge before (the catch-all
// authenticated every /api path first).
func TestTokenEndpointWrongMethod(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	for _, p := range []string{"/api/oauth/token", "/api/oauth/revoke"} {
		res := h.rawCall("GET", p, "")
		if res.status != 405 || res.header.Get("Allow") != "POST" || res.header.Get("WWW-Authenticate") != "" ||
			res.header.Get("X-Error-Code") != "UNEXPECTED_ERROR" || !strings.Contains(string(res.body), `"error":405`) {
			t.Errorf("GET %s: %d %v %s", p, res.status, res.header, res.body)
		}
	}
}

func secretOf(sa map[string]any) string {
	return sa["secrets"].([]any)[0].(map[string]any)["secret"].(string)
}

func tokenConfig(h *idHarness, clientID, secret string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: h.base + "/api/oauth/token",
		AuthStyle: oauth2.AuthStyleInHeader}
}

// token fetches a token with x/oauth2, as the Atlas SDK's OAuth mode does.
func (h *idHarness) token(clientID, secret string) bearer {
	h.t.Helper()
	tok, err := tokenConfig(h, clientID, secret).Token(context.Background())
	if err != nil {
		h.t.Fatalf("token: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
		h.t.Fatalf("token %+v", tok)
	}
	h.remember(tok.AccessToken)
	return bearer(tok.AccessToken)
}

func TestOAuthClientCredentials(t *testing.T) {
	h := newIDHarness(t, idOptions{})
	sas := orgsPath + "/" + h.orgID + "/serviceAccounts"
	sa := h.ok(h.adminDigest(), 201, "POST", sas,
		`{"name":"ci bot","description":"runs CI","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}`)
	clientID, secret := sa["clientId"].(string), secretOf(sa)

	// The client that the SDK's UseOAuthAuth builds on.
	httpClient := tokenConfig(h, clientID, secret).Client(context.Background())
	req, _ := http.NewRequest("GET", h.base+orgsPath, nil)
	req.Header.Set("Accept", keyAccept)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /orgs with a token: %d", res.StatusCode)
	}

	tok := h.token(clientID, secret)
	h.ok(tok, 200, "GET", orgsPath+"/"+h.orgID, "")
	got := h.ok(h.adminDigest(), 200, "GET", sas+"/"+clientID, "")
	sec := got["secrets"].([]any)[0].(map[string]any)
	if sec["lastUsedAt"] == nil || sec["secret"] != nil || !strings.HasPrefix(sec["maskedSecretValue"].(string), "mdb_sa_sk_...") {
		t.Errorf("secret after use: %v", sec)
	}

	// Wrong secret, unknown client: invalid_client, as RFC 6749 shapes it.
	for _, c := range [][2]string{{clientID, secret + "x"}, {"mdb_sa_id_000000000000000000000000", secret}} {
		_, err := tokenConfig(h, c[0], c[1]).Token(context.Background())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
			t.Errorf("bad client %s: %v", c[0], err)
		}
	}

	// Revocation takes effect at once.
	revoked := h.token(clientID, secret)
	h.ok(revoked, 200, "GET", orgsPath, "")
	form := url.Values{"token": {string(revoked)}, "token_type_hint": {"access_token"}}
	rreq, _ := http.NewRequest("POST", h.base+"/api/oauth/revoke", strings.NewReader(form.Encode()))
	rreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rreq.SetBasicAuth(clientID, secret)
	rres := h.send(t, rreq)
	rres.Body.Close()
	if rres.StatusCode != 200 {
		t.Fatalf("revoke: %d", rres.StatusCode)
	}
	h.unauthorized(h.call(revoked, "GET", orgsPath, "", ""), "revoked token")
	h.ok(tok, 200, "GET", orgsPath, "")

	// Deleting a secret revokes the tokens issued with it, not others.
	second := h.ok(h.adminDigest(), 201, "POST", sas+"/"+clientID+"/secrets", `{"secretExpiresAfterHours":24}`)
	tok2 := h.token(clientID, second["secret"].(string))
	h.ok(h.adminDigest(), 204, "DELETE", sas+"/"+clientID+"/secrets/"+sec["id"].(string), "")
	h.unauthorized(h.call(tok, "GET", orgsPath, "", ""), "token of a deleted secret")
	h.ok(tok2, 200, "GET", orgsPath, "")
	if _, err := tokenConfig(h, clientID, secret).Token(context.Background()); err == nil {
		t.Error("a deleted secret still gets tokens")
	}

	// Tokens last an hour; secrets expire as requested.
	advance(h.clock, time.Hour)
	h.unauthorized(h.call(tok2, "GET", orgsPath, "", ""), "expired token")
	advance(h.clock, 24*time.Hour)
	if _, err := tokenConfig(h, clientID, second["secret"].(string)).Token(context.Background()); err == nil {
		t.Error("an expired secret still gets tokens")
	}

	// Deleting the account revokes its tokens at once.
	third := h.ok(h.adminDigest(), 201, "POST", sas+"/"+clientID+"/secrets", `{"secretExpiresAfterHours":8}`)
	tok3 := h.token(clientID, third["secret"].(string))
	h.ok(tok3, 200, "GET", orgsPath, "")
	h.ok(h.adminDigest(), 204, "DELETE", sas+"/"+clientID, "")
	h.unauthorized(h.call(tok3, "GET", orgsPath, "", ""), "token of a deleted account")

	if logs := h.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, string(tok)) {
		t.Error("a secret or a token reached the logs")
	}
}

// advance moves the authentication clock forward by d.
func advance(c *jobs.ManualClock, d time.Duration) { c.Set(c.Now().Add(d)) }
