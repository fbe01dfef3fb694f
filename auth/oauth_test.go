package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/credential"
)

type oauthFixture struct {
	clock    *manualClock
	accounts *auth.MemoryServiceAccounts
	tokens   *auth.MemoryTokenStore
	bearer   *auth.BearerVerifier
	srv      *httptest.Server
	clientID string
	secret   string

	mu       sync.Mutex
	observed []error
}

func newOAuthFixture(t *testing.T, cfg auth.OAuthConfig) *oauthFixture {
	t.Helper()
	f := &oauthFixture{clock: newClock(), accounts: auth.NewMemoryServiceAccounts(),
		clientID: credential.NewClientID(), secret: credential.NewClientSecret()}
	f.tokens = auth.NewMemoryTokenStore(f.clock)
	f.bearer = auth.NewBearerVerifier(f.tokens, f.clock)
	f.addSecret(t, f.clientID, f.secret, time.Time{})
	cfg.Clock = f.clock
	cfg.WriteError = atlasapi.WriteError
	cfg.Observe = func(_ *http.Request, _ string, err error) {
		f.mu.Lock()
		f.observed = append(f.observed, err)
		f.mu.Unlock()
	}
	o := auth.NewOAuth(f.accounts, f.tokens, cfg)
	mux := http.NewServeMux()
	mux.Handle("/api/oauth/token", o.TokenHandler())
	mux.Handle("/api/oauth/revoke", o.RevokeHandler())
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *oauthFixture) addSecret(t *testing.T, clientID, secret string, expires time.Time) {
	t.Helper()
	h, err := credential.HashSecretCost(secret, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f.accounts.Add(clientID, clientID, auth.ClientSecret{Hash: h, ExpiresAt: expires})
}

func (f *oauthFixture) config(id, secret string, style oauth2.AuthStyle) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: f.srv.URL + "/api/oauth/token", AuthStyle: style}
}

func (f *oauthFixture) lastReason(t *testing.T) auth.Reason {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.observed) == 0 {
		t.Fatal("nothing observed")
	}
	var fl *auth.Failure
	if err := f.observed[len(f.observed)-1]; !errors.As(err, &fl) {
		t.Fatalf("observed %v, not a *Failure", err)
	}
	return fl.Reason
}

// bearerSubject verifies tok as an API call would present it.
func (f *oauthFixture) bearerSubject(tok string) (string, error) {
	r := httptest.NewRequest("GET", "/api/atlas/v2/groups", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return f.bearer.Verify(r)
}

// post sends a form to path with optional Basic credentials, as a client
// that does not percent-encode them would.
func (f *oauthFixture) post(t *testing.T, path, contentType, body, user, pass string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const form = "application/x-www-form-urlencoded"

func TestOAuthTokenIssued(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	for name, style := range map[string]oauth2.AuthStyle{
		"autodetect": oauth2.AuthStyleAutoDetect, "header": oauth2.AuthStyleInHeader, "params": oauth2.AuthStyleInParams,
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := f.config(f.clientID, f.secret, style).Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if until := time.Until(tok.Expiry); tok.TokenType != "Bearer" || until < 59*time.Minute || until > time.Hour || len(tok.AccessToken) < 43 {
				t.Errorf("token %+v", tok)
			}
			if sub, err := f.bearerSubject(tok.AccessToken); err != nil || sub != f.clientID {
				t.Errorf("bearer: subject %q, err %v", sub, err)
			}
		})
	}
}

func TestOAuthTokenWire(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if !regexp.MustCompile(`^\{"access_token":"[A-Za-z0-9_-]{43}","expires_in":3600,"token_type":"Bearer"\}$`).Match(b) {
		t.Errorf("body %s", b)
	}
	if cc, ct := resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"); cc != "no-store" || ct != "application/json" {
		t.Errorf("Cache-Control %q Content-Type %q", cc, ct)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &body)
	if f.tokens.Len() != 1 {
		t.Fatalf("%d tokens stored", f.tokens.Len())
	}
	// Only the digest is stored.
	if _, err := f.tokens.Token(t.Context(), body.AccessToken); err == nil {
		t.Error("token stored in clear")
	}
	if _, err := f.tokens.Token(t.Context(), credential.TokenDigest(body.AccessToken)); err != nil {
		t.Error(err)
	}
}

func TestOAuthInvalidClient(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	expiredID, expiredSecret := credential.NewClientID(), credential.NewClientSecret()
	f.addSecret(t, expiredID, expiredSecret, f.clock.Now())

	tests := []struct {
		name, id, secret string
		reason           auth.Reason
	}{
		{"wrong secret", f.clientID, credential.NewClientSecret(), auth.ReasonWrongSecret},
		{"unknown client", credential.NewClientID(), f.secret, auth.ReasonUnknownClient},
		{"expired secret", expiredID, expiredSecret, auth.ReasonExpiredSecret},
		{"secret over 72 bytes", f.clientID, f.secret + strings.Repeat("x", 30), auth.ReasonWrongSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.config(tc.id, tc.secret, oauth2.AuthStyleInHeader).Token(t.Context())
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("err %v, want *oauth2.RetrieveError", err)
			}
			if re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
				t.Errorf("error %q status %d", re.ErrorCode, re.Response.StatusCode)
			}
			if c := re.Response.Header.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Basic realm=") {
				t.Errorf("WWW-Authenticate %q", c)
			}
			if strings.Contains(string(re.Body), tc.secret) || strings.Contains(string(re.Body), tc.id) {
				t.Errorf("error body echoes credentials: %s", re.Body)
			}
			if got := f.lastReason(t); got != tc.reason {
				t.Errorf("observed %s, want %s", got, tc.reason)
			}
		})
	}

	t.Run("autodetect retries in the body and still fails", func(t *testing.T) {
		_, err := f.config(f.clientID, "wrong", oauth2.AuthStyleAutoDetect).Token(t.Context())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("a second, valid secret still works", func(t *testing.T) {
		second := credential.NewClientSecret()
		f.addSecret(t, expiredID, second, f.clock.Now().Add(time.Hour))
		if _, err := f.config(expiredID, second, oauth2.AuthStyleInHeader).Token(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOAuthPercentEncodedCredentials: RFC 6749 §2.3.1 form-encodes
// credentials before Basic; x/oauth2 does, so secrets with reserved
// characters must survive it.
func TestOAuthPercentEncodedCredentials(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	const id, secret = "client id/with:colon", "s3cr:t+/%&=?é"
	f.addSecret(t, id, secret, time.Time{})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		if _, err := f.config(id, secret, style).Token(t.Context()); err != nil {
			t.Errorf("style %d: %v", style, err)
		}
	}
	// And generated secrets work whether or not the client encodes them.
	resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret)
	if resp.StatusCode != 200 {
		t.Errorf("raw Basic credentials: status %d", resp.StatusCode)
	}
}

func TestOAuthBadRequests(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.clientID+":"+f.secret))
	tests := []struct {
		name, method, contentType, body, authorization string
		status                                         int
		code                                           string
	}{
		{"wrong grant", "POST", form, "grant_type=password&username=a&password=b", basic, 400, "unsupported_grant_type"},
		{"no grant", "POST", form, "scope=x", basic, 400, "invalid_request"},
		{"json body", "POST", "application/json", `{"grant_type":"client_credentials"}`, basic, 400, "invalid_request"},
		{"no content type", "POST", "", "grant_type=client_credentials", basic, 400, "invalid_request"},
		{"duplicate grant", "POST", form, "grant_type=client_credentials&grant_type=client_credentials", basic, 400, "invalid_request"},
		{"two auth methods", "POST", form, "grant_type=client_credentials&client_secret=" + url.QueryEscape(f.secret), basic, 400, "invalid_request"},
		{"GET", "GET", "", "", basic, 405, "invalid_request"},
		{"no credentials", "POST", form, "grant_type=client_credentials", "", 401, "invalid_client"},
		{"bearer credentials", "POST", form, "grant_type=client_credentials", "Bearer abc", 401, "invalid_client"},
		{"bad base64", "POST", form, "grant_type=client_credentials", "Basic !!!", 401, "invalid_client"},
		{"no colon", "POST", form, "grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte(f.clientID)), 401, "invalid_client"},
		{"bad percent escape", "POST", form, "grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte(f.clientID+":%zz")), 401, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.srv.URL+"/api/oauth/token", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Error != tc.code || body.Description == "" {
				t.Errorf("status %d body %+v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
}

func TestOAuthRevoke(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	tok, err := f.config(f.clientID, f.secret, oauth2.AuthStyleInHeader).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	revoke := func(id, secret, token string) int {
		// As the Atlas SDK's RevokeToken sends it.
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/oauth/revoke",
			strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		req.Header.Set("Content-Type", form)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Another service account cannot revoke it, and cannot tell.
	otherID, otherSecret := credential.NewClientID(), credential.NewClientSecret()
	f.addSecret(t, otherID, otherSecret, time.Time{})
	if st := revoke(otherID, otherSecret, tok.AccessToken); st != 200 {
		t.Errorf("foreign revoke: status %d", st)
	}
	if _, err := f.bearerSubject(tok.AccessToken); err != nil {
		t.Fatalf("token revoked by another client: %v", err)
	}
	if st := revoke(f.clientID, "wrong", tok.AccessToken); st != 401 {
		t.Errorf("revoke with a wrong secret: status %d", st)
	}
	if st := revoke(f.clientID, f.secret, tok.AccessToken); st != 200 {
		t.Fatalf("revoke: status %d", st)
	}
	_, err = f.bearerSubject(tok.AccessToken)
	wantReason(t, err, auth.ReasonRevokedToken)
	if st := revoke(f.clientID, f.secret, "never-issued"); st != 200 {
		t.Errorf("unknown token: status %d", st)
	}
	resp := f.post(t, "/api/oauth/revoke", form, "token_type_hint=access_token", f.clientID, f.secret)
	if resp.StatusCode != 400 {
		t.Errorf("revoke without token: status %d", resp.StatusCode)
	}
}

func TestBearerVerify(t *testing.T) {
	f := newOAuthFixture(t, auth.OAuthConfig{})
	tok, err := f.config(f.clientID, f.secret, oauth2.AuthStyleInHeader).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifyHeader := func(h string) error {
		r := httptest.NewRequest("GET", "/api/atlas/v2", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		_, err := f.bearer.Verify(r)
		return err
	}
	if err := verifyHeader("bearer " + tok.AccessToken); err != nil {
		t.Errorf("lowercase scheme: %v", err)
	}
	wantReason(t, verifyHeader(""), auth.ReasonMissing)
	wantReason(t, verifyHeader("Bearer"), auth.ReasonBadHeader)
	wantReason(t, verifyHeader("Bearer a b"), auth.ReasonBadHeader)
	wantReason(t, verifyHeader("Bearer ="), auth.ReasonBadHeader)
	wantReason(t, verifyHeader("Bearer "+strings.Repeat("a", 600)), auth.ReasonBadHeader)
	wantReason(t, verifyHeader("Bearer "+credential.NewAccessToken()), auth.ReasonUnknownToken)

	f.clock.Advance(time.Hour - time.Second)
	if _, err := f.bearerSubject(tok.AccessToken); err != nil {
		t.Errorf("token within its hour: %v", err)
	}
	f.clock.Advance(time.Second)
	_, err = f.bearerSubject(tok.AccessToken)
	wantReason(t, err, auth.ReasonExpiredToken)
	// Expired tokens are forgotten: memory stays bounded.
	f.tokens.CreateToken(context.Background(), auth.Token{Digest: "x", ExpiresAt: f.clock.Now().Add(time.Hour)})
	if n := f.tokens.Len(); n != 1 {
		t.Errorf("%d tokens held after expiry", n)
	}
}

func TestOAuthRateLimited(t *testing.T) {
	clock := newClock()
	limiter := auth.NewLimiter(auth.LimiterConfig{Limit: 2, Window: time.Minute, Clock: clock})
	f := newOAuthFixture(t, auth.OAuthConfig{Limiter: limiter})
	limiterClockSync := func(d time.Duration) { clock.Advance(d); f.clock.Advance(d) }
	limiterClockSync(10 * time.Second)

	for i := range 2 {
		if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret)
	b, _ := io.ReadAll(resp.Body)
	const want = `{"detail":"Resource /api/oauth/token is limited to 2 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["/api/oauth/token",2,1],"reason":"Too Many Requests"}`
	if resp.StatusCode != 429 || string(b) != want {
		t.Errorf("status %d body %s", resp.StatusCode, b)
	}
	// A token bucket of 2 a minute: the next token comes in 30s.
	if ra := resp.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After %q, want 30", ra)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := f.lastReason(t); got != auth.ReasonRateLimited {
		t.Errorf("observed %s", got)
	}
	// Another client from the same address has its own allowance.
	otherID, otherSecret := credential.NewClientID(), credential.NewClientSecret()
	f.addSecret(t, otherID, otherSecret, time.Time{})
	if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", otherID, otherSecret); resp.StatusCode != 200 {
		t.Errorf("other client: status %d", resp.StatusCode)
	}
	limiterClockSync(30 * time.Second)
	if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret); resp.StatusCode != 200 {
		t.Errorf("after a refill: status %d", resp.StatusCode)
	}
}

func TestOAuthFailureLimiter(t *testing.T) {
	clock := newClock()
	failures := auth.NewLimiter(auth.LimiterConfig{Limit: 3, Window: time.Minute, Clock: clock})
	f := newOAuthFixture(t, auth.OAuthConfig{FailureLimiter: failures})
	// Guessing one client's secret from one address is throttled.
	for i := range 3 {
		if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, "guess"); resp.StatusCode != 401 {
			t.Fatalf("guess %d: status %d", i, resp.StatusCode)
		}
	}
	resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, "guess")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "20" {
		t.Errorf("4th failure: status %d Retry-After %q, want 429 after 20s (one token of 3 a minute)",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The right secret is accepted all the same: only failures are throttled.
	if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, f.secret); resp.StatusCode != 200 {
		t.Errorf("valid credentials after 4 failures: status %d, want 200", resp.StatusCode)
	}
	// Another client id from the same address has its own budget.
	if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", credential.NewClientID(), "guess"); resp.StatusCode != 401 {
		t.Errorf("another identity: status %d, want 401", resp.StatusCode)
	}
	clock.Advance(20 * time.Second)
	if resp := f.post(t, "/api/oauth/token", form, "grant_type=client_credentials", f.clientID, "guess"); resp.StatusCode != 401 {
		t.Errorf("after a token came back: status %d, want 401", resp.StatusCode)
	}
}

func TestOAuthStoreFailure(t *testing.T) {
	o := auth.NewOAuth(brokenAccounts{}, auth.NewMemoryTokenStore(nil), auth.OAuthConfig{WriteError: atlasapi.WriteError})
	srv := httptest.NewServer(o.TokenHandler())
	defer srv.Close()
	_, err := (&clientcredentials.Config{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}).Token(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 500 {
		t.Fatalf("err %v", err)
	}
}

type brokenAccounts struct{}

func (brokenAccounts) ClientSecrets(context.Context, string) (string, []auth.ClientSecret, error) {
	return "", nil, errors.New("database is down")
}
