package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flexd/flexd"
)

// AuthenticatorConfig configures an Authenticator.
type AuthenticatorConfig struct {
	// Store loads the principal behind a verified key or token, with its
	// roles as they are now: a key or account deleted a moment ago no
	// longer authenticates.
	Store  flexd.IdentityStore
	Digest *DigestVerifier
	Bearer *BearerVerifier
	// FailureLimiter, if set, counts failed attempts per client IP and
	// claimed identity (the Digest username), and answers a failure beyond
	// it 429 RATE_LIMITED instead of 401. Credentials are always checked
	// first: a caller that presents valid ones is never throttled, however
	// many failures others made from its address. Share it with
	// OAuthConfig.FailureLimiter so that one limiter bounds the memory.
	FailureLimiter *Limiter
	// ClientIP names the caller for the limiter; defaults to the host of
	// r.RemoteAddr.
	ClientIP func(*http.Request) string
	// Logger receives one line per failed attempt, with its Reason and
	// never a credential; nil is slog.Default().
	Logger *slog.Logger
}

// Authenticator identifies the callers of the Atlas API: HTTP Digest with
// an API key, or a Bearer token from the OAuth token endpoint, picked by
// the Authorization scheme. It satisfies atlasapi.Authenticator;
// authorization stays with the API's route table.
type Authenticator struct {
	cfg AuthenticatorConfig
	log *slog.Logger
}

// NewAuthenticator returns an Authenticator; Store, Digest and Bearer are
// required.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Store == nil || cfg.Digest == nil || cfg.Bearer == nil {
		return nil, errors.New("auth: Authenticator needs a store and both verifiers")
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteHost
	}
	a := &Authenticator{cfg: cfg, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	return a, nil
}

// memo carries from Authenticate to Challenge whether the challenge should
// say stale=true.
type memo struct {
	stale bool
}

type memoKey struct{}

// Handler wraps the API so that Challenge can answer stale=true to a
// client whose digest was right but whose nonce had expired (RFC 7616
// §3.3): Authenticate and Challenge are separate calls that share only the
// request, so the request carries the answer from one to the other.
// Without it every challenge says stale=false, which clients also accept.
func (a *Authenticator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memoKey{}, &memo{})))
	})
}

// Authenticate implements atlasapi.Authenticator: the principal, (nil, nil)
// for missing or wrong credentials, a RATE_LIMITED error for wrong
// credentials beyond the failure limit, or another error when the store
// failed.
func (a *Authenticator) Authenticate(r *http.Request) (*flexd.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil // the first leg of every Digest call: not a failure
	}
	var p *flexd.Principal
	var err error
	switch scheme, _, _ := strings.Cut(h, " "); {
	case strings.EqualFold(scheme, "Digest"):
		p, err = a.apiKey(r)
	case strings.EqualFold(scheme, "Bearer"):
		p, err = a.serviceAccount(r)
	default:
		err = fail(ReasonBadHeader)
	}
	if f, ok := errors.AsType[*Failure](err); ok {
		return nil, a.failed(r, h, f)
	}
	return p, err
}

// apiKey verifies a Digest request and loads its key.
func (a *Authenticator) apiKey(r *http.Request) (*flexd.Principal, error) {
	dk, err := a.cfg.Digest.verify(r)
	if err != nil {
		return nil, err
	}
	k := dk.APIKey
	if k == nil || k.ID != dk.Subject {
		if k, err = a.cfg.Store.GetAPIKey(r.Context(), dk.Subject); err != nil {
			return nil, a.gone(err, dk.Subject)
		}
	}
	return k.Principal(flexd.KindAPIKey, k.ID, k.PublicKey, k.OrgID), nil
}

// serviceAccount verifies a Bearer token and loads its account.
func (a *Authenticator) serviceAccount(r *http.Request) (*flexd.Principal, error) {
	clientID, err := a.cfg.Bearer.Verify(r)
	if err != nil {
		return nil, err
	}
	acc, err := a.cfg.Store.GetServiceAccount(r.Context(), clientID)
	if err != nil {
		return nil, a.gone(err, clientID)
	}
	return acc.Principal(flexd.KindServiceAccount, acc.ClientID, acc.ClientID, acc.OrgID), nil
}

// gone turns the failure to load a verified principal into a Failure when
// it was deleted meanwhile.
func (a *Authenticator) gone(err error, subject string) error {
	if errors.Is(err, flexd.ErrNotFound) {
		return &Failure{Reason: ReasonUnknownUser, Subject: subject}
	}
	return fmt.Errorf("auth: loading principal: %w", err)
}

// failed logs a failed attempt, charges it to the address and the identity
// it claimed, and remembers a stale nonce for Challenge. A stale nonce is a
// client that knew its key: it is not charged, nor is an empty
// Authorization header. A failure beyond the limit is RATE_LIMITED.
func (a *Authenticator) failed(r *http.Request, header string, f *Failure) error {
	if m, ok := r.Context().Value(memoKey{}).(*memo); ok && f.Stale {
		m.stale = true
	}
	ip := a.cfg.ClientIP(r)
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "authentication failed",
		slog.String("reason", string(f.Reason)), slog.String("subject", f.Subject), slog.String("ip", ip),
		slog.String("path", r.URL.EscapedPath()))
	l := a.cfg.FailureLimiter
	if l == nil || f.Reason == ReasonMissing || f.Reason == ReasonStaleNonce {
		return nil
	}
	if ok, retryAfter := l.Allow(failureKey(ip, claimedIdentity(header))); !ok {
		return l.Error(r.URL.Path, retryAfter)
	}
	return nil
}

// claimedIdentity is whom a failed Authorization header claimed to be: the
// Digest username, or "bearer" for any token (a token names nobody until
// it is verified). Only a limiter key: it is never logged.
func claimedIdentity(header string) string {
	scheme, _, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return strings.ToLower(scheme)
	}
	if p, err := parseDigest(header); err == nil {
		return "digest:" + p.username
	}
	return "digest"
}

// Challenge implements atlasapi.Authenticator: the Digest challenge Atlas
// sends, with a fresh nonce, to every unauthenticated request (Bearer
// clients ignore it; Digest clients need it to retry).
func (a *Authenticator) Challenge(w http.ResponseWriter, r *http.Request) {
	m, _ := r.Context().Value(memoKey{}).(*memo)
	w.Header().Set("WWW-Authenticate", a.cfg.Digest.Challenge(m != nil && m.stale))
	w.Header().Set("Cache-Control", "no-store")
}
