package auth_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexd/flexd"

	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/credential"
)

// rfcClient is an HTTP Digest client written from RFC 7616 §3.4 alone, and
// from the Atlas SDK's habits (github.com/mongodb-forks/digest): it parses
// the challenge by splitting on ", ", signs req.URL.RequestURI() and sends
// nc=00000001 with a 16-hex-digit cnonce. It shares no code with package
// auth, so the two cannot agree on a mistake.
type rfcClient struct {
	username, password string
	// algorithm overrides the challenge's (e.g. SHA-256, MD5-sess).
	algorithm string
}

// parseChallenge is as strict as the SDK's parser: "Digest " then
// parameters separated by exactly ", ", only the known names.
func parseChallenge(t testing.TB, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		t.Fatalf("challenge %q lacks the Digest scheme", h)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("challenge %q: parameter %q has no value", h, kv)
		}
		switch k {
		case "realm", "domain", "nonce", "opaque", "stale", "algorithm", "qop":
			out[k] = strings.Trim(v, `"`)
		default:
			t.Fatalf("challenge %q: parameter %q would break the SDK", h, k)
		}
	}
	return out
}

func rfcHash(alg, s string) string {
	var h hash.Hash = md5.New()
	if strings.HasPrefix(alg, "SHA-256") {
		h = sha256.New()
	}
	io.WriteString(h, s)
	return hex.EncodeToString(h.Sum(nil))
}

// authorization computes the Authorization header for one request.
func (c rfcClient) authorization(ch map[string]string, method, uri string, nc uint32, cnonce string) string {
	alg := c.algorithm
	if alg == "" {
		alg = ch["algorithm"]
	}
	realm, nonce := ch["realm"], ch["nonce"]
	ha1 := rfcHash(alg, c.username+":"+realm+":"+c.password)
	if strings.HasSuffix(alg, "-sess") {
		ha1 = rfcHash(alg, ha1+":"+nonce+":"+cnonce)
	}
	ha2 := rfcHash(alg, method+":"+uri)
	ncs := fmt.Sprintf("%08x", nc)
	response := rfcHash(alg, ha1+":"+nonce+":"+ncs+":"+cnonce+":auth:"+ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm="%s", qop=auth, nc=%s, cnonce="%s"`,
		c.username, realm, nonce, uri, response, alg, ncs, cnonce)
}

func newCnonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const (
	publicKey  = "abcdefgh"
	privateKey = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	keyID      = "6650f0e3c1a2b3c4d5e6f708"
)

type digestFixture struct {
	clock    *manualClock
	creds    *auth.MemoryDigestCredentials
	counter  *auth.MemoryNonceCounter
	key      []byte
	verifier *auth.DigestVerifier
}

func newDigestFixture(t testing.TB) *digestFixture {
	t.Helper()
	f := &digestFixture{clock: newClock(), creds: auth.NewMemoryDigestCredentials(), key: auth.NewKey()}
	f.counter = auth.NewMemoryNonceCounter(0, f.clock)
	f.creds.Add(keyID, publicKey, privateKey)
	f.verifier = f.newVerifier(t, f.key)
	return f
}

func (f *digestFixture) newVerifier(t testing.TB, keys ...[]byte) *auth.DigestVerifier {
	t.Helper()
	v, err := auth.NewDigestVerifier(f.creds, f.counter, auth.DigestConfig{Keys: keys, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// challenge returns a parsed fresh challenge from v.
func challenge(t testing.TB, v *auth.DigestVerifier) map[string]string {
	t.Helper()
	return parseChallenge(t, v.Challenge(false))
}

// verify runs v on a request for target carrying authorization.
func verify(v *auth.DigestVerifier, method, target, authorization string) (string, error) {
	r := httptest.NewRequest(method, target, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return v.Verify(r)
}

func wantReason(t testing.TB, err error, want auth.Reason) *auth.Failure {
	t.Helper()
	var f *auth.Failure
	if !errors.As(err, &f) {
		t.Fatalf("got error %v, want a *Failure with reason %s", err, want)
	}
	if f.Reason != want {
		t.Fatalf("got reason %s, want %s", f.Reason, want)
	}
	return f
}

var challengeShape = regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9_-]{20,}", algorithm=MD5, qop="auth", stale=(true|false)$`)

func TestDigestChallengeShape(t *testing.T) {
	f := newDigestFixture(t)
	for _, stale := range []bool{false, true} {
		c := f.verifier.Challenge(stale)
		if !challengeShape.MatchString(c) {
			t.Errorf("challenge %q is not the shape Atlas sends", c)
		}
		if !strings.HasSuffix(c, fmt.Sprint("stale=", stale)) {
			t.Errorf("challenge %q: want stale=%v", c, stale)
		}
	}
	if a, b := challenge(t, f.verifier)["nonce"], challenge(t, f.verifier)["nonce"]; a == b {
		t.Errorf("two challenges share nonce %q", a)
	}
}

// TestDigestStaleChallenge: a challenge answering an expired nonce says
// stale=true, so the client retries without asking for the key again.
// (The 401 body is atlasapi's, the one Atlas error encoder.)
func TestDigestStaleChallenge(t *testing.T) {
	f := newDigestFixture(t)
	if c := f.verifier.Challenge(true); !challengeShape.MatchString(c) || !strings.HasSuffix(c, "stale=true") {
		t.Errorf("WWW-Authenticate %q", c)
	}
}

// sdkTransport performs the SDK's two-leg exchange: a request without
// credentials, then the same request answering the 401's challenge.
type sdkTransport struct {
	t      testing.TB
	client rfcClient
}

func (s sdkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	first := req.Clone(req.Context())
	first.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultTransport.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	resp.Body.Close()
	ch := parseChallenge(s.t, resp.Header.Get("WWW-Authenticate"))
	second := req.Clone(req.Context())
	second.Body = io.NopCloser(bytes.NewReader(body))
	second.Header.Set("Authorization", s.client.authorization(ch, req.Method, req.URL.RequestURI(), 1, newCnonce()))
	return http.DefaultTransport.RoundTrip(second)
}

func TestDigestOverHTTP(t *testing.T) {
	f := newDigestFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject, err := f.verifier.Verify(r)
		if err != nil {
			var fl *auth.Failure
			if !errors.As(err, &fl) {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("WWW-Authenticate", f.verifier.Challenge(fl.Stale))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, subject)
	}))
	defer srv.Close()

	// The SDK escapes path parameters; the signed uri is the escaped one.
	const path = "/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/flexClusters/a%2Fb/backup/restoreJobs?pageNum=1&itemsPerPage=100"
	for _, alg := range []string{"", "MD5", "SHA-256", "MD5-sess", "SHA-256-sess"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			t.Run(alg+"/"+method, func(t *testing.T) {
				c := &http.Client{Transport: sdkTransport{t, rfcClient{username: publicKey, password: privateKey, algorithm: alg}}}
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"name":"x"}`))
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || string(b) != keyID {
					t.Fatalf("status %d body %q", resp.StatusCode, b)
				}
			})
		}
	}

	t.Run("wrong private key gets the challenge again", func(t *testing.T) {
		c := &http.Client{Transport: sdkTransport{t, rfcClient{username: publicKey, password: "wrong"}}}
		resp, err := c.Get(srv.URL + "/api/atlas/v2/groups")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !challengeShape.MatchString(resp.Header.Get("WWW-Authenticate")) {
			t.Fatalf("status %d challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}

func TestDigestReplay(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}
	ch := challenge(t, f.verifier)
	cnonce := newCnonce()
	h := c.authorization(ch, "GET", "/api/atlas/v2", 1, cnonce)
	if _, err := verify(f.verifier, "GET", "/api/atlas/v2", h); err != nil {
		t.Fatal(err)
	}
	_, err := verify(f.verifier, "GET", "/api/atlas/v2", h)
	if fl := wantReason(t, err, auth.ReasonReplay); fl.Stale || fl.Subject != keyID {
		t.Errorf("replay failure %+v", fl)
	}
	// A restarted verifier sharing key and counter still refuses it.
	_, err = verify(f.newVerifier(t, f.key), "GET", "/api/atlas/v2", h)
	wantReason(t, err, auth.ReasonReplay)
	// The next nc of the same nonce is a new request.
	if _, err := verify(f.verifier, "GET", "/api/atlas/v2", c.authorization(ch, "GET", "/api/atlas/v2", 2, cnonce)); err != nil {
		t.Errorf("nc=2: %v", err)
	}
}

// TestDigestNonceCountStartsAtOne: RFC 7616 §3.4 counts requests from
// 00000001, so nc=00000000 is a malformed header. It was accepted before.
func TestDigestNonceCountStartsAtOne(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}
	ch := challenge(t, f.verifier)
	_, err := verify(f.verifier, "GET", "/api/atlas/v2", c.authorization(ch, "GET", "/api/atlas/v2", 0, newCnonce()))
	wantReason(t, err, auth.ReasonBadHeader)
}

func TestDigestStaleNonce(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}

	ch := challenge(t, f.verifier)
	f.clock.Advance(auth.DefaultNonceTTL - time.Second)
	if _, err := verify(f.verifier, "GET", "/x", c.authorization(ch, "GET", "/x", 1, newCnonce())); err != nil {
		t.Fatalf("nonce within its TTL: %v", err)
	}

	ch = challenge(t, f.verifier)
	f.clock.Advance(auth.DefaultNonceTTL)
	_, err := verify(f.verifier, "GET", "/x", c.authorization(ch, "GET", "/x", 1, newCnonce()))
	if fl := wantReason(t, err, auth.ReasonStaleNonce); !fl.Stale || fl.Subject != keyID {
		t.Errorf("stale failure %+v", fl)
	}

	// Stale is only for clients that know the key (RFC 7616 §3.3).
	wrong := rfcClient{username: publicKey, password: "nope"}
	_, err = verify(f.verifier, "GET", "/x", wrong.authorization(ch, "GET", "/x", 1, newCnonce()))
	if fl := wantReason(t, err, auth.ReasonWrongResponse); fl.Stale {
		t.Error("stale=true for a wrong key")
	}
}

func TestDigestForgedNonce(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}
	genuine := challenge(t, f.verifier)["nonce"]

	other := newDigestFixture(t) // another server, another key
	ahead := newDigestFixture(t) // same key, clock an hour ahead
	ahead.clock.Advance(time.Hour)
	flipped := []byte(genuine)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '_' || flipped[len(flipped)/2] == '-' {
		flipped[len(flipped)/2] = 'A'
	}

	for name, nonce := range map[string]string{
		"made up":       "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		"other key":     challenge(t, other.verifier)["nonce"],
		"tampered":      string(flipped),
		"truncated":     genuine[:len(genuine)-1],
		"future":        challenge(t, ahead.newVerifier(t, f.key))["nonce"],
		"base64 padded": genuine + "=",
	} {
		t.Run(name, func(t *testing.T) {
			ch := map[string]string{"realm": credential.Realm, "nonce": nonce, "algorithm": "MD5"}
			_, err := verify(f.verifier, "GET", "/x", c.authorization(ch, "GET", "/x", 1, newCnonce()))
			wantReason(t, err, auth.ReasonForgedNonce)
		})
	}
}

func TestDigestKeyRotation(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}
	ch := challenge(t, f.verifier) // signed with the old key
	rotated := f.newVerifier(t, auth.NewKey(), f.key)
	if _, err := verify(rotated, "GET", "/x", c.authorization(ch, "GET", "/x", 1, newCnonce())); err != nil {
		t.Fatalf("nonce under the previous key: %v", err)
	}
	// New nonces are signed with the new key, which the old verifier lacks.
	ch = challenge(t, rotated)
	_, err := verify(f.verifier, "GET", "/x", c.authorization(ch, "GET", "/x", 1, newCnonce()))
	wantReason(t, err, auth.ReasonForgedNonce)
}

func TestDigestRejections(t *testing.T) {
	f := newDigestFixture(t)
	good := rfcClient{username: publicKey, password: privateKey}
	ch := challenge(t, f.verifier)
	sign := func(c rfcClient, method, uri string) string {
		return c.authorization(ch, method, uri, 1, newCnonce())
	}
	const target = "/api/atlas/v2/groups/g1/flexClusters/a%2Fb?pretty=true"

	tests := []struct {
		name   string
		method string
		header string
		want   auth.Reason
	}{
		{"no header", "GET", "", auth.ReasonMissing},
		{"wrong uri", "GET", sign(good, "GET", "/api/atlas/v2/groups/g1/flexClusters/other?pretty=true"), auth.ReasonWrongURI},
		{"unescaped uri", "GET", sign(good, "GET", "/api/atlas/v2/groups/g1/flexClusters/a/b?pretty=true"), auth.ReasonWrongURI},
		{"uri without query", "GET", sign(good, "GET", "/api/atlas/v2/groups/g1/flexClusters/a%2Fb"), auth.ReasonWrongURI},
		{"wrong password", "GET", sign(rfcClient{username: publicKey, password: "x"}, "GET", target), auth.ReasonWrongResponse},
		{"wrong method", "DELETE", sign(good, "GET", target), auth.ReasonWrongResponse},
		{"unknown user", "GET", sign(rfcClient{username: "zzzzzzzz", password: privateKey}, "GET", target), auth.ReasonUnknownUser},
		{"private key as user", "GET", sign(rfcClient{username: privateKey, password: publicKey}, "GET", target), auth.ReasonUnknownUser},
		{"wrong realm", "GET", strings.Replace(sign(good, "GET", target), `realm="MMS Public API"`, `realm="Other"`, 1), auth.ReasonWrongRealm},
		{"qop missing", "GET", strings.Replace(sign(good, "GET", target), "qop=auth, ", "", 1), auth.ReasonBadQop},
		{"qop auth-int", "GET", strings.Replace(sign(good, "GET", target), "qop=auth,", "qop=auth-int,", 1), auth.ReasonBadQop},
		{"unknown algorithm", "GET", strings.Replace(sign(good, "GET", target), `algorithm="MD5"`, `algorithm="SHA-512-256"`, 1), auth.ReasonBadAlgorithm},
		{"other scheme", "GET", "Basic YWJjZGVmZ2g6eA==", auth.ReasonBadHeader},
		{"bare scheme", "GET", "Digest", auth.ReasonBadHeader},
		{"unterminated quote", "GET", strings.TrimSuffix(sign(good, "GET", target), `"`), auth.ReasonBadHeader},
		{"no equals", "GET", `Digest username "abcdefgh"`, auth.ReasonBadHeader},
		{"missing nonce", "GET", regexp.MustCompile(`nonce="[^"]*", `).ReplaceAllString(sign(good, "GET", target), ""), auth.ReasonBadHeader},
		{"missing cnonce", "GET", regexp.MustCompile(`, cnonce="[^"]*"`).ReplaceAllString(sign(good, "GET", target), ""), auth.ReasonBadHeader},
		{"short nc", "GET", strings.Replace(sign(good, "GET", target), "nc=00000001", "nc=1", 1), auth.ReasonBadHeader},
		{"non-hex response", "GET", regexp.MustCompile(`response="[^"]*"`).ReplaceAllString(sign(good, "GET", target), `response="zz"`), auth.ReasonBadHeader},
		{"duplicate parameter", "GET", sign(good, "GET", target) + `, username="other"`, auth.ReasonBadHeader},
		{"userhash", "GET", sign(good, "GET", target) + `, userhash=true`, auth.ReasonBadHeader},
		{"garbage", "GET", "Digest \x01\x02", auth.ReasonBadHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(f.verifier, tc.method, target, tc.header)
			fl := wantReason(t, err, tc.want)
			if fl.Stale {
				t.Error("stale=true")
			}
			if tc.want == auth.ReasonUnknownUser && fl.Subject != "" {
				t.Errorf("unknown user reported as %q", fl.Subject)
			}
		})
	}
	if n := f.counter.Len(); n != 0 {
		t.Errorf("rejected requests left %d entries in the nonce counter", n)
	}
}

// TestDigestLenientSyntax: RFC 7235 allows any parameter order, optional
// whitespace, empty list elements, a lowercase scheme, unquoted tokens and
// escapes inside quoted strings.
func TestDigestLenientSyntax(t *testing.T) {
	f := newDigestFixture(t)
	f.creds.Add("id2", `we"ird\user`, privateKey)
	c := rfcClient{username: `we"ird\user`, password: privateKey}
	ch := challenge(t, f.verifier)
	cnonce := newCnonce()
	std := c.authorization(ch, "GET", "/x", 1, cnonce)
	response := regexp.MustCompile(`response="([^"]*)"`).FindStringSubmatch(std)[1]
	h := "digest  ,cnonce=\"" + cnonce + "\" ,\tnc = 00000001,," +
		` qop="auth", algorithm=MD5, response=` + response +
		`, uri="/x", opaque="ignored", nonce="` + ch["nonce"] + `", realm="MMS Public API",` +
		` username="we\"ird\\user", future-extension="x, y"  `
	subject, err := verify(f.verifier, "GET", "/x", h)
	if err != nil || subject != "id2" {
		t.Fatalf("subject %q, err %v", subject, err)
	}
}

func TestDigestSHA256WithoutStoredHA1(t *testing.T) {
	creds := staticCreds{auth.DigestKey{Subject: keyID, HA1MD5: credential.HA1(auth.AlgorithmMD5, publicKey, privateKey)}}
	clock := newClock()
	v, err := auth.NewDigestVerifier(creds, auth.NewMemoryNonceCounter(0, clock), auth.DigestConfig{Keys: [][]byte{auth.NewKey()}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	c := rfcClient{username: publicKey, password: privateKey, algorithm: "SHA-256"}
	_, err = verify(v, "GET", "/x", c.authorization(challenge(t, v), "GET", "/x", 1, newCnonce()))
	wantReason(t, err, auth.ReasonWrongResponse)
	c.algorithm = "MD5"
	if _, err := verify(v, "GET", "/x", c.authorization(challenge(t, v), "GET", "/x", 1, newCnonce())); err != nil {
		t.Fatal(err)
	}
}

func TestDigestStoreFailureIsNotAFailure(t *testing.T) {
	clock := newClock()
	v, err := auth.NewDigestVerifier(brokenCreds{}, auth.NewMemoryNonceCounter(0, clock), auth.DigestConfig{Keys: [][]byte{auth.NewKey()}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	c := rfcClient{username: publicKey, password: privateKey}
	_, err = verify(v, "GET", "/x", c.authorization(challenge(t, v), "GET", "/x", 1, newCnonce()))
	var fl *auth.Failure
	if err == nil || errors.As(err, &fl) {
		t.Fatalf("store outage reported as %v", err)
	}
}

func TestNewDigestVerifierConfig(t *testing.T) {
	creds, counter := auth.NewMemoryDigestCredentials(), auth.NewMemoryNonceCounter(0, nil)
	if _, err := auth.NewDigestVerifier(creds, counter, auth.DigestConfig{}); err == nil {
		t.Error("no key accepted")
	}
	if _, err := auth.NewDigestVerifier(creds, counter, auth.DigestConfig{Keys: [][]byte{[]byte("short")}}); err == nil {
		t.Error("short key accepted")
	}
}

func TestHA1(t *testing.T) {
	// RFC 7616 §3.9.1's example: Mufasa / http-auth@example.org / Circle of Life.
	// HA1 fixes the realm to Atlas's, so check against the definition.
	if got, want := credential.HA1(auth.AlgorithmMD5, "Mufasa", "Circle of Life"), rfcHash("MD5", "Mufasa:MMS Public API:Circle of Life"); got != want {
		t.Errorf("MD5 HA1 %s, want %s", got, want)
	}
	if got, want := credential.HA1(auth.AlgorithmSHA256, "Mufasa", "Circle of Life"), rfcHash("SHA-256", "Mufasa:MMS Public API:Circle of Life"); got != want {
		t.Errorf("SHA-256 HA1 %s, want %s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("HA1 of an unknown algorithm did not panic")
		}
	}()
	credential.HA1("SHA-512", "a", "b")
}

func TestMemoryNonceCounter(t *testing.T) {
	clock := newClock()
	c := auth.NewMemoryNonceCounter(32, clock)
	ctx := t.Context()
	exp := clock.Now().Add(time.Minute)
	if fresh, err := c.Use(ctx, "n1", 1, exp); !fresh || err != nil {
		t.Fatalf("first use: %v %v", fresh, err)
	}
	if fresh, _ := c.Use(ctx, "n1", 1, exp); fresh {
		t.Error("second use of (n1, 1) fresh")
	}
	if fresh, _ := c.Use(ctx, "n1", 2, exp); !fresh {
		t.Error("(n1, 2) not fresh")
	}
	// Fill it: the counter fails closed rather than forgetting live pairs.
	var full error
	for i := range 1000 {
		if _, err := c.Use(ctx, fmt.Sprint("fill", i), 1, exp); err != nil {
			full = err
			break
		}
	}
	if !errors.Is(full, auth.ErrCounterFull) {
		t.Fatalf("never full: %v", full)
	}
	// Expired pairs are forgotten, which makes room again.
	clock.Advance(time.Minute)
	if n := c.Len(); n != 0 {
		t.Errorf("counter still holds %d pairs after they expired", n)
	}
	if fresh, err := c.Use(ctx, "n1", 1, clock.Now().Add(time.Minute)); !fresh || err != nil {
		t.Errorf("after expiry: %v %v", fresh, err)
	}
}

type staticCreds struct{ k auth.DigestKey }

func (s staticCreds) DigestHA1(_ context.Context, publicKey string) (auth.DigestKey, error) {
	return s.k, nil
}

type brokenCreds struct{}

func (brokenCreds) DigestHA1(context.Context, string) (auth.DigestKey, error) {
	return auth.DigestKey{}, errors.New("database is down")
}

// TestDigestConcurrentReplay: of many simultaneous presentations of one
// response, exactly one is accepted.
func TestDigestConcurrentReplay(t *testing.T) {
	f := newDigestFixture(t)
	c := rfcClient{username: publicKey, password: privateKey}
	h := c.authorization(challenge(t, f.verifier), "GET", "/x", 1, newCnonce())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 32 {
		wg.Go(func() {
			if _, err := verify(f.verifier, "GET", "/x", h); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 32 concurrent replays accepted, want 1", ok)
	}
}

// TestRFCClientVectors checks the test's own client against RFC 7616
// §3.9.1, so that agreement between it and the verifier means both follow
// the RFC.
func TestRFCClientVectors(t *testing.T) {
	ch := map[string]string{"realm": "http-auth@example.org", "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"}
	const cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	for alg, want := range map[string]string{
		"MD5":     "8ca523f5e9506fed4657c9700eebdbec",
		"SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
	} {
		c := rfcClient{username: "Mufasa", password: "Circle of Life", algorithm: alg}
		if h := c.authorization(ch, "GET", "/dir/index.html", 1, cnonce); !strings.Contains(h, `response="`+want+`"`) {
			t.Errorf("%s: %s, want response %s", alg, h, want)
		}
	}
}

// TestDigestFullNonceCounterIsUnavailable: a nonce counter at its bound
// fails closed, and the caller learns it as Atlas's 503 with a Retry-After
// (its valid request was neither a failure nor a server fault), never as
// a 500.
func TestDigestFullNonceCounterIsUnavailable(t *testing.T) {
	f := newDigestFixture(t)
	f.counter = auth.NewMemoryNonceCounter(1, f.clock) // one pair per shard
	f.verifier = f.newVerifier(t, f.key)
	c := rfcClient{username: publicKey, password: privateKey}
	var err error
	for range 10000 {
		if _, err = verify(f.verifier, "GET", "/x", c.authorization(challenge(t, f.verifier), "GET", "/x", 1, newCnonce())); err != nil {
			break
		}
	}
	e := flexd.AsError(err)
	if e == nil || e.Status != http.StatusServiceUnavailable || e.Code != "SERVICE_UNAVAILABLE" || e.RetryAfter <= 0 {
		t.Fatalf("a full nonce counter answered %v, want SERVICE_UNAVAILABLE with a Retry-After", err)
	}
}
