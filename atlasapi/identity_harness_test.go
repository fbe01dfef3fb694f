package atlasapi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/credential"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/seal"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// The identity tests run the whole server as cmd/flexd wires it (atlasapi,
// the service, auth's Authenticator and OAuth endpoints over a SQLite file)
// and talk to it only through real HTTP, as the official clients would.

const (
	keyAccept = "application/vnd.atlas.2023-01-01+json"
	saAccept  = "application/vnd.atlas.2024-08-05+json"
)

// idHarness is one authenticated flexd on a fresh SQLite file.
type idHarness struct {
	t      *testing.T
	base   string
	dbPath string
	svc    *service.Service
	clock  *jobs.ManualClock // moves only when told: expiry without sleeping
	logs   *syncBuffer
	orgID  string
	admin  digestCreds // ORG_OWNER of the default organization

	mu      sync.Mutex
	secrets []string // every private key, client secret and token the server handed out
}

type idOptions struct {
	failureLimit, tokenLimit int
	// cached serves reads through the read cache and reuses encoded
	// pages by the store's versions, as flexd serve does on its own data
	// directory.
	cached bool
	// wrap, when set, wraps the store every component reads and writes.
	wrap func(flexd.Store) flexd.Store
}

func newIDHarness(t *testing.T, opts idOptions) *idHarness {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "flexd.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// As flexd serve does: what Digest needs in usable form is sealed.
	box, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	store.SealWith(box)
	var (
		reads    flexd.Store = store
		versions flexd.Versions
	)
	if opts.cached {
		reads, versions = sqlstore.NewCached(store), store.Versions()
	}
	if opts.wrap != nil {
		reads = opts.wrap(reads)
	}
	clock := jobs.NewManualClock(time.Now())
	svc := service.New(reads, clock, jobs.NewSync(store, clock, jobs.Config{}), service.Config{SecretCost: bcrypt.MinCost, DownloadTTL: service.AtlasDownloadTTL})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := auth.NonceKey(ctx, reads)
	if err != nil {
		t.Fatal(err)
	}
	creds := auth.NewStoreCredentials(reads, clock)
	digest, err := auth.NewDigestVerifier(creds, creds, auth.DigestConfig{Keys: [][]byte{key}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if opts.failureLimit == 0 {
		opts.failureLimit = 10_000
	}
	if opts.tokenLimit == 0 {
		opts.tokenLimit = 10_000
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	failures := auth.NewLimiter(auth.LimiterConfig{Limit: opts.failureLimit, Window: time.Minute, Clock: clock})
	authn, err := auth.NewAuthenticator(auth.AuthenticatorConfig{Store: reads, Digest: digest,
		Bearer: auth.NewBearerVerifier(creds, clock), FailureLimiter: failures, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	oauth := auth.NewOAuth(creds, creds, auth.OAuthConfig{Clock: clock, FailureLimiter: failures, WriteError: atlasapi.WriteError,
		Limiter: auth.NewLimiter(auth.LimiterConfig{Limit: opts.tokenLimit, Window: time.Minute, Clock: clock})})
	srv := httptest.NewServer(authn.Handler(atlasapi.NewServer(atlasapi.Config{
		Orgs: svc, Projects: svc, Clusters: svc, Backups: svc, APIKeys: svc, ServiceAccounts: svc,
		Settings: svc, Instance: svc, DatabaseAccess: svc,
		Authenticator: authn, OAuthToken: oauth.TokenHandler(), OAuthRevoke: oauth.RevokeHandler(),
		Logger: log, Ready: store.Ping, Versions: versions,
	})))
	h := &idHarness{t: t, base: srv.URL, dbPath: dbPath, svc: svc, clock: clock, logs: logs, orgID: svc.DefaultOrgID()}
	// Cleanups run last-in first-out: the scan runs once the server and the
	// store are closed, on what they left on disk.
	t.Cleanup(h.scanDatabase)
	t.Cleanup(func() { _ = store.Close() })
	t.Cleanup(srv.Close)
	k, err := svc.CreateAdminAPIKey(ctx, h.orgID, "test admin")
	if err != nil {
		t.Fatal(err)
	}
	h.remember(k.PrivateKey)
	h.rememberHA1(k.PublicKey, k.PrivateKey)
	h.remember(hex.EncodeToString(key))
	h.admin = digestCreds{public: k.PublicKey, private: k.PrivateKey}
	// As cmd/flexd's bootstrap does: the first key is the instance
	// administrator.
	if err := svc.SetInstanceAdministrator(ctx, k.ID, true); err != nil {
		t.Fatal(err)
	}
	return h
}

// rememberHA1 records an API key's HA1 values: enough to sign Digest
// requests, so the database keeps them only sealed.
func (h *idHarness) rememberHA1(public, private string) {
	h.remember(credential.HA1(credential.AlgorithmMD5, public, private))
	h.remember(credential.HA1(credential.AlgorithmSHA256, public, private))
}

// remember records a secret the database must never contain.
func (h *idHarness) remember(s string) {
	if s == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, s)
}

// scanDatabase reads the database files as bytes, WAL included, and fails
// if any private key, client secret or access token the test saw is in
// them: they may only be there as HA1 values, hashes and digests.
func (h *idHarness) scanDatabase() {
	var data []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(h.dbPath + suffix)
		if err == nil {
			data = append(data, b...)
		}
	}
	if len(data) == 0 {
		h.t.Error("database file not found for the secret scan")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.secrets) == 0 {
		h.t.Error("the secret scan has nothing to look for")
	}
	for _, s := range h.secrets {
		if bytes.Contains(data, []byte(s)) {
			h.t.Errorf("the database holds a secret in clear (%d bytes starting %.6s…)", len(s), s)
		}
	}
}

// digestCreds are an API key's credentials.
type digestCreds struct{ public, private string }

// caller is how a request authenticates.
type caller interface {
	authorize(t *testing.T, h *idHarness, req *http.Request) *http.Response
}

// bearer sends an access token.
type bearer string

func (b bearer) authorize(t *testing.T, h *idHarness, req *http.Request) *http.Response {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return h.send(t, req)
}

// digestCaller authenticates as the Atlas SDK does: the request without
// credentials, then again with a Digest response to the challenge.
type digestCaller struct {
	digestCreds
	alg string // "MD5" or "SHA-256"
}

func (d digestCaller) authorize(t *testing.T, h *idHarness, req *http.Request) *http.Response {
	t.Helper()
	first := h.send(t, cloneRequest(t, req))
	if first.StatusCode != http.StatusUnauthorized {
		return first
	}
	ch := parseChallenge(t, first.Header.Get("WWW-Authenticate"))
	req.Header.Set("Authorization", digestAuthorization(d.digestCreds, d.alg, req.Method, req.URL.RequestURI(),
		ch["nonce"], 1, newCnonce()))
	return h.send(t, req)
}

func (h *idHarness) send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func cloneRequest(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	c := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		c.Body = body
	}
	return c
}

// challengeParam reads the auth-params of a challenge: token or quoted.
var challengeParam = regexp.MustCompile(`(\w+)=(?:"([^"]*)"|([^,\s]*))`)

func parseChallenge(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		t.Fatalf("challenge %q is not Digest", h)
	}
	out := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(rest, -1) {
		out[m[1]] = m[2] + m[3]
	}
	return out
}

func newCnonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// digestAuthorization builds an Authorization header by RFC 7616 §3.4.1,
// written from the RFC rather than from the server's code:
// response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2)),
// A1 = username ":" realm ":" password, A2 = method ":" request-uri.
func digestAuthorization(c digestCreds, alg, method, uri, nonce string, nc int, cnonce string) string {
	var newHash func() hash.Hash
	switch alg {
	case "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		panic(alg)
	}
	H := func(s string) string {
		h := newHash()
		io.WriteString(h, s)
		return hex.EncodeToString(h.Sum(nil))
	}
	const realm, qop = "MMS Public API", "auth"
	ncs := fmt.Sprintf("%08x", nc)
	ha1 := H(c.public + ":" + realm + ":" + c.private)
	ha2 := H(method + ":" + uri)
	response := H(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":" + qop + ":" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="%s", qop=%s, nc=%s, cnonce="%s"`,
		c.public, realm, nonce, uri, response, alg, qop, ncs, cnonce)
}

// call sends one API request as who, with the Accept header given (the
// SDK's choice for the route family when empty), and checks the response
// the way the core harness does: successes against the spec, errors
// against ApiError (the special 401 excepted).
func (h *idHarness) call(who caller, method, path, body string, accept string) *response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if accept == "" {
		accept = acceptFor(path)
	}
	req.Header.Set("Accept", accept)
	if body != "" {
		req.Header.Set("Content-Type", accept)
	}
	res := who.authorize(h.t, h, req)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, body: data}
	h.collect(data)
	c := &client{t: h.t, base: h.base}
	switch {
	case r.status == http.StatusUnauthorized && r.header.Get("X-Error-Code") == "":
		// Atlas's special 401: checked byte for byte by unauthorized.
	case r.status == http.StatusOK && strings.HasSuffix(req.URL.Path, ":invite"):
		// kin-openapi's router cannot match a custom method after a
		// path parameter; check the body against the schema directly.
		doc, _ := loadSpec(h.t)
		c.visit(doc, "GroupServiceAccount", data, req)
	default:
		c.check(req, r)
	}
	return r
}

// collect remembers the secrets a response body hands out.
func (h *idHarness) collect(body []byte) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "privateKey" || k == "secret" || k == "access_token") {
					h.remember(s)
				}
				if pub, ok := v["publicKey"].(string); ok && k == "privateKey" {
					if priv, ok := x.(string); ok {
						h.rememberHA1(pub, priv)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		walk(v)
	}
}

// orgOrGroup matches the paths of organizations and projects themselves.
var orgOrGroup = regexp.MustCompile(`^/api/atlas/v2/(orgs|groups)(/[0-9a-f]{24}(/groups)?)?$`)

// acceptFor is the version the official clients send for a path.
func acceptFor(path string) string {
	p, _, _ := strings.Cut(path, "?")
	switch {
	case strings.Contains(p, "/serviceAccounts"):
		return saAccept
	case strings.Contains(p, "/apiKeys"), orgOrGroup.MatchString(p):
		return keyAccept
	case strings.Contains(p, "/clusters/"):
		return "application/vnd.atlas.2024-08-05+json"
	}
	return sdkAccept
}

// ok and fail are the core harness's checks for an authenticated caller.
func (h *idHarness) ok(who caller, want int, method, path, body string) map[string]any {
	h.t.Helper()
	return h.call(who, method, path, body, "").want(h.t, want, method, path)
}

func (h *idHarness) fail(who caller, status int, code, method, path, body string) []any {
	h.t.Helper()
	res := h.call(who, method, path, body, "")
	m := map[string]any{}
	_ = json.Unmarshal(res.body, &m)
	if res.status != status || m["errorCode"] != code || res.header.Get("X-Error-Code") != code {
		h.t.Fatalf("%s %s: %d %s, want %d %s", method, path, res.status, res.body, status, code)
	}
	params, _ := m["parameters"].([]any)
	return params
}

// exactUnauthorized is Atlas's 401 body, byte for byte.
const exactUnauthorized = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n" +
	"  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"

// challengeShape is the exact WWW-Authenticate Atlas sends.
var challengeShape = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9_-]+", algorithm=MD5, qop="auth", stale=(true|false)$`)

// unauthorized fails unless res is Atlas's exact 401 with a challenge, and
// returns the challenge's stale flag.
func (h *idHarness) unauthorized(res *response, what string) string {
	h.t.Helper()
	ch := res.header.Get("WWW-Authenticate")
	if res.status != http.StatusUnauthorized || string(res.body) != exactUnauthorized || !challengeShape.MatchString(ch) ||
		res.header.Get("Content-Type") != "application/json" {
		h.t.Fatalf("%s: %d %q %q, want Atlas's 401 with a Digest challenge", what, res.status, ch, res.body)
	}
	return challengeShape.FindStringSubmatch(ch)[1]
}

// newKey creates an organization API key with roles as the admin and
// returns its id and credentials.
func (h *idHarness) newKey(orgID string, roles ...flexd.Role) (string, digestCreds) {
	h.t.Helper()
	k := h.ok(h.adminDigest(), 200, "POST", "/api/atlas/v2/orgs/"+orgID+"/apiKeys",
		`{"desc":"key","roles":`+jsonRoles(roles)+`}`)
	return k["id"].(string), digestCreds{k["publicKey"].(string), k["privateKey"].(string)}
}

func (h *idHarness) adminDigest() digestCaller { return digestCaller{h.admin, "MD5"} }

func jsonRoles(roles []flexd.Role) string {
	b, _ := json.Marshal(roles)
	return string(b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
