package auth

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// The Digest realm and algorithms are credential's: the HA1 values a key's
// creation stores and the verification here must agree on them. The
// "-sess" variants are accepted too: they only add a step on top of the
// stored HA1.
const (
	AlgorithmMD5    = credential.AlgorithmMD5
	AlgorithmSHA256 = credential.AlgorithmSHA256
)

// DefaultNonceTTL is how long a nonce stays usable. The Atlas SDK uses each
// nonce once, within milliseconds of receiving it.
const DefaultNonceTTL = 5 * time.Minute

// DigestKey is what verification needs to know about one API key.
type DigestKey struct {
	Subject   string // API key id
	HA1MD5    string // credential.HA1(AlgorithmMD5, publicKey, privateKey)
	HA1SHA256 string // credential.HA1(AlgorithmSHA256, publicKey, privateKey); may be empty
	// APIKey is the key as stored, when the credentials read it whole
	// (StoreCredentials): the Authenticator then needs no second read to
	// learn its roles. May be nil.
	APIKey *flexd.APIKey
}

// DigestCredentials looks up API keys by public key (the Digest username).
// It returns an error wrapping flexd.ErrNotFound for an unknown public key.
type DigestCredentials interface {
	DigestHA1(ctx context.Context, publicKey string) (DigestKey, error)
}

// DigestConfig configures a DigestVerifier.
type DigestConfig struct {
	// Keys sign nonces: Keys[0] signs new ones, all of them are accepted,
	// so a key can be rotated by prepending the new one. At least one key
	// of MinKeyLen bytes is required; share them between replicas.
	Keys [][]byte
	// NonceTTL defaults to DefaultNonceTTL.
	NonceTTL time.Duration
	// ThisProcessOnly accepts only the nonces this verifier issued; any
	// other genuine nonce, such as one issued before a restart, is answered
	// as stale, and the client handshakes again. Set it exactly when the
	// NonceCounter forgets on restart (a MemoryNonceCounter): then no nonce
	// whose uses were forgotten can be used again, so a response captured
	// before a restart cannot be replayed after it. Leave it off when
	// several processes verify against one shared, durable counter: each
	// must accept the nonces the others issued.
	ThisProcessOnly bool
	// Clock defaults to the system clock.
	Clock flexd.Clock
}

// DigestVerifier authenticates API keys with HTTP Digest (RFC 7616, qop=auth).
type DigestVerifier struct {
	creds   DigestCredentials
	counter NonceCounter
	signer  *nonceSigner
	ttl     time.Duration
	ownOnly bool
	clock   flexd.Clock
	// dummyHA1 is checked against when the user is unknown, so that an
	// unknown public key costs the same hashing as a wrong private key.
	dummyHA1 string
}

// NewDigestVerifier returns a verifier looking keys up in creds and
// recording used nonces in counter.
func NewDigestVerifier(creds DigestCredentials, counter NonceCounter, cfg DigestConfig) (*DigestVerifier, error) {
	if creds == nil || counter == nil {
		return nil, errors.New("auth: DigestVerifier needs credentials and a nonce counter")
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("auth: DigestVerifier needs a nonce key")
	}
	keys := make([][]byte, len(cfg.Keys))
	for i, k := range cfg.Keys {
		if len(k) < MinKeyLen {
			return nil, fmt.Errorf("auth: nonce key %d is shorter than %d bytes", i, MinKeyLen)
		}
		keys[i] = append([]byte(nil), k...)
	}
	v := &DigestVerifier{
		creds:    creds,
		counter:  counter,
		signer:   newNonceSigner(keys),
		ttl:      cfg.NonceTTL,
		ownOnly:  cfg.ThisProcessOnly,
		clock:    cfg.Clock,
		dummyHA1: credential.HA1(AlgorithmSHA256, "", hex.EncodeToString(NewKey())),
	}
	if v.ttl <= 0 {
		v.ttl = DefaultNonceTTL
	}
	if v.clock == nil {
		v.clock = flexd.SystemClock{}
	}
	return v, nil
}

// Challenge returns a WWW-Authenticate value with a fresh nonce, in exactly
// the shape Atlas sends. The SDK's parser splits on ", " and knows only these
// parameters, and it reads only the first WWW-Authenticate header, so flexd
// offers MD5 alone (SHA-256 responses are still accepted from clients that
// choose it themselves).
func (v *DigestVerifier) Challenge(stale bool) string {
	return `Digest realm="` + credential.Realm + `", domain="", nonce="` + v.signer.issue(v.clock.Now()) +
		`", algorithm=MD5, qop="auth", stale=` + strconv.FormatBool(stale)
}

// Verify authenticates r's Digest Authorization header and returns the API
// key id. A rejected attempt is a *Failure; any other error means a store
// failed. The checks that need no store come first, the replay check last,
// so that only clients that proved their key can fill the nonce counter.
func (v *DigestVerifier) Verify(r *http.Request) (string, error) {
	key, err := v.verify(r)
	return key.Subject, err
}

// verify is Verify returning the whole key it verified.
func (v *DigestVerifier) verify(r *http.Request) (DigestKey, error) {
	var a digestAttempt
	if f := v.read(&a, r); f != nil {
		return DigestKey{}, f
	}
	key, err := v.creds.DigestHA1(r.Context(), a.username)
	known := err == nil
	if err != nil && !errors.Is(err, flexd.ErrNotFound) {
		return DigestKey{}, fmt.Errorf("auth: looking up digest key: %w", err)
	}
	ha1 := key.HA1MD5
	if a.alg == AlgorithmSHA256 {
		ha1 = key.HA1SHA256
	}
	usable := known && ha1 != "" // no HA1 for this algorithm: key predates it
	if !usable {
		ha1 = v.dummyHA1
	}
	match := a.matches(ha1, r.Method)
	switch {
	case !known:
		return DigestKey{}, fail(ReasonUnknownUser)
	case !match || !usable:
		return DigestKey{}, &Failure{Reason: ReasonWrongResponse, Subject: key.Subject}
	case !a.now.Before(a.expires) || v.ownOnly && !a.own:
		// The client knows the key; only its nonce is too old (or from
		// before a restart that forgot its uses). RFC 7616 §3.3:
		// stale=true only when the digest itself was valid.
		return DigestKey{}, &Failure{Reason: ReasonStaleNonce, Stale: true, Subject: key.Subject}
	}
	fresh, err := v.counter.Use(r.Context(), a.nonce, a.ncount, a.expires)
	if errors.Is(err, ErrCounterFull) {
		// Failing closed: the request is valid, but its nonce use cannot
		// be recorded until older pairs expire. Not the caller's fault,
		// and not a fault of flexd's either: Atlas's 503, retried later.
		unavailable := flexd.ServiceUnavailable()
		unavailable.RetryAfter = 10 * time.Second
		return DigestKey{}, unavailable
	}
	if err != nil {
		return DigestKey{}, fmt.Errorf("auth: recording nonce use: %w", err)
	}
	if !fresh {
		return DigestKey{}, &Failure{Reason: ReasonReplay, Subject: key.Subject}
	}
	return key, nil
}

// digestAttempt is a Digest Authorization header read, and checked as far
// as it can be without the store.
type digestAttempt struct {
	digestParams
	alg    string // base algorithm
	sess   bool   // a -sess variant
	ncount uint32 // nc, parsed
	// got holds the response, decoded, in its first gotLen bytes.
	got    [sha256.Size]byte
	gotLen int
	// now is when the nonce was checked, own whether this process issued
	// it, and expires when it stops being usable.
	now, expires time.Time
	own          bool
}

// read reads r's Authorization header into a and checks what needs no
// store: its syntax, realm, algorithm, qop, nonce count, uri and nonce.
func (v *DigestVerifier) read(a *digestAttempt, r *http.Request) *Failure {
	h, f := authorizationHeader(r)
	if f != nil {
		return f
	}
	p, err := parseDigest(h)
	if err != nil {
		return fail(ReasonBadHeader)
	}
	if p.username == "" || p.hasUsernameStar || p.userhash != "" && !strings.EqualFold(p.userhash, "false") ||
		p.nonce == "" || p.uri == "" || p.response == "" {
		return fail(ReasonBadHeader)
	}
	if p.realm != credential.Realm {
		return fail(ReasonWrongRealm)
	}
	a.digestParams = p
	alg := p.algorithm
	if alg == "" {
		alg = AlgorithmMD5 // RFC 7616 §3.4: absent means MD5
	}
	if a.alg, a.sess = canonicalAlgorithm(alg); a.alg == "" {
		return fail(ReasonBadAlgorithm)
	}
	if !strings.EqualFold(p.qop, "auth") {
		// Without qop there is no nc or cnonce: RFC 2069 compatibility
		// mode, which offers no replay protection.
		return fail(ReasonBadQop)
	}
	var ok bool
	a.ncount, ok = parseNC(p.nc)
	if !ok || a.ncount == 0 || p.cnonce == "" { // counts start at 00000001
		return fail(ReasonBadHeader)
	}
	a.gotLen = hashSize(a.alg)
	if _, ok := decodeHex(a.got[:a.gotLen], p.response); !ok {
		return fail(ReasonBadHeader)
	}
	if !uriMatches(p.uri, r) {
		return fail(ReasonWrongURI)
	}
	issued, own, ok := v.signer.check(p.nonce)
	a.now, a.own = v.clock.Now(), own
	if !ok || issued.After(a.now.Add(maxNonceSkew)) {
		return fail(ReasonForgedNonce)
	}
	a.expires = issued.Add(v.ttl)
	return nil
}

// matches reports, in constant time, whether the response is the one ha1
// gives for method: response = H(HA1:nonce:nc:cnonce:qop:HA2), HA2 =
// H(method:uri); for -sess, HA1 becomes H(HA1:nonce:cnonce) (RFC 7616
// §3.4.2, §3.4.3).
func (a *digestAttempt) matches(ha1, method string) bool {
	var ha1Buf, ha2Buf [2 * sha256.Size]byte
	ha1b := append(ha1Buf[:0], ha1...)
	if a.sess {
		ha1b = hexSum(ha1Buf[:0], a.alg, ha1, ":", a.nonce, ":", a.cnonce)
	}
	ha2 := hexSum(ha2Buf[:0], a.alg, method, ":", a.uri)
	var msgBuf [512]byte
	msg := append(msgBuf[:0], ha1b...)
	for _, part := range [...]string{":", a.nonce, ":", a.nc, ":", a.cnonce, ":", a.qop, ":"} {
		msg = append(msg, part...)
	}
	msg = append(msg, ha2...)
	var wantBuf [sha256.Size]byte
	want := sum(&wantBuf, a.alg, msg)
	return subtle.ConstantTimeCompare(want, a.got[:a.gotLen]) == 1
}

// uriMatches reports whether the digest-uri names this request. The Atlas SDK
// signs req.URL.RequestURI(), the escaped path and raw query, which is what
// the server reconstructs as r.URL.RequestURI(); the raw request-target is
// accepted too, being what RFC 7616 §3.4 says the uri repeats.
func uriMatches(uri string, r *http.Request) bool {
	return uri == r.URL.RequestURI() || r.RequestURI != "" && uri == r.RequestURI
}

// canonicalAlgorithm maps an algorithm name, compared case-insensitively, to
// its base algorithm and whether it is a -sess variant.
func canonicalAlgorithm(alg string) (string, bool) {
	sess := false
	if len(alg) > 5 && strings.EqualFold(alg[len(alg)-5:], "-sess") {
		alg, sess = alg[:len(alg)-5], true
	}
	switch {
	case strings.EqualFold(alg, AlgorithmMD5):
		return AlgorithmMD5, sess
	case strings.EqualFold(alg, AlgorithmSHA256):
		return AlgorithmSHA256, sess
	}
	return "", false
}

// hashSize is the digest length of a base algorithm, 0 for any other.
func hashSize(alg string) int {
	switch alg {
	case AlgorithmMD5:
		return md5.Size
	case AlgorithmSHA256:
		return sha256.Size
	}
	return 0
}

// sum hashes data with alg into dst and returns the digest. Digest hashing
// runs on every authenticated call, so it works on caller-provided arrays
// rather than allocating hashers.
func sum(dst *[sha256.Size]byte, alg string, data []byte) []byte {
	if alg == AlgorithmMD5 {
		s := md5.Sum(data)
		return dst[:copy(dst[:], s[:])]
	}
	*dst = sha256.Sum256(data)
	return dst[:]
}

// hexSum appends to dst the lowercase hex hash of the concatenated parts.
func hexSum(dst []byte, alg string, parts ...string) []byte {
	var buf [256]byte
	data := buf[:0]
	for _, p := range parts {
		data = append(data, p...)
	}
	var s [sha256.Size]byte
	return hex.AppendEncode(dst, sum(&s, alg, data))
}

// decodeHex decodes s, either case, into dst, which it must fill exactly.
func decodeHex(dst []byte, s string) ([]byte, bool) {
	if len(s) != 2*len(dst) {
		return nil, false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		dst[i] = hi<<4 | lo
	}
	return dst, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseNC reads the nonce count: exactly 8 hex digits (RFC 7616 §3.4).
func parseNC(s string) (uint32, bool) {
	var b [4]byte
	if _, ok := decodeHex(b[:], s); !ok {
		return 0, false
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}
