package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// DefaultTokenTTL is the access token lifetime Atlas documents.
const DefaultTokenTTL = time.Hour

// ClientSecret is one secret of a service account, as stored.
type ClientSecret struct {
	ID        string    // names the secret, so tokens can be revoked with it
	Hash      string    // credential.HashSecret of the secret
	ExpiresAt time.Time // zero: never expires
}

// ServiceAccounts looks up service accounts by client id. It returns an
// error wrapping flexd.ErrNotFound for an unknown client id. subject is what
// tokens of this client authenticate as (the client id itself, or an internal
// id). An account may have several secrets, expired ones included.
type ServiceAccounts interface {
	ClientSecrets(ctx context.Context, clientID string) (subject string, secrets []ClientSecret, err error)
}

// Token is an issued access token as stored: only its digest.
type Token struct {
	Digest    string // credential.TokenDigest of the token
	Subject   string
	SecretID  string // ClientSecret.ID of the secret the client presented
	ExpiresAt time.Time
	Revoked   bool
}

// TokenStore keeps issued access tokens. Expired tokens may be deleted at
// any time.
type TokenStore interface {
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with this digest, or an error wrapping
	// flexd.ErrNotFound.
	Token(ctx context.Context, digest string) (Token, error)
	// RevokeToken revokes the token with this digest if it belongs to
	// subject, and does nothing (no error) otherwise: a client may revoke
	// only its own tokens, and must not learn whether others exist.
	RevokeToken(ctx context.Context, subject, digest string) error
}

// OAuthConfig configures the token and revocation endpoints.
type OAuthConfig struct {
	TokenTTL time.Duration // defaults to DefaultTokenTTL
	Clock    flexd.Clock   // defaults to the system clock
	// Limiter, if set, counts every request per client id and IP, as
	// Atlas does (50 requests every 1 minute).
	Limiter *Limiter
	// FailureLimiter, if set, counts failed client authentications per
	// address and client id, and answers a failure beyond it 429 instead of
	// invalid_client. Valid credentials are always accepted.
	FailureLimiter *Limiter
	// ClientIP names the caller for limiting; defaults to the host of
	// r.RemoteAddr. Behind a proxy, supply one that trusts only it.
	ClientIP func(*http.Request) string
	// WriteError writes Atlas-shaped errors (429, 500), Retry-After
	// included: atlasapi.WriteError, the API's own encoder. Required.
	WriteError func(http.ResponseWriter, *http.Request, *flexd.Error)
	// Observe, if set, is told the outcome of every request: nil on
	// success, a *Failure for a refused client, another error when a store
	// failed. For logs and metrics; it carries no secrets.
	Observe func(r *http.Request, subject string, err error)
}

// OAuth serves OAuth 2.0 client credentials for service accounts:
// POST /api/oauth/token and POST /api/oauth/revoke.
type OAuth struct {
	accounts ServiceAccounts
	tokens   TokenStore
	cfg      OAuthConfig
}

// NewOAuth returns the endpoints backed by accounts and tokens. It panics
// without cfg.WriteError, a wiring mistake to catch at start-up.
func NewOAuth(accounts ServiceAccounts, tokens TokenStore, cfg OAuthConfig) *OAuth {
	if cfg.WriteError == nil {
		panic("auth: OAuthConfig.WriteError is required")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = flexd.SystemClock{}
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteHost
	}
	return &OAuth{accounts: accounts, tokens: tokens, cfg: cfg}
}

// maxSecretsChecked bounds the bcrypt work one request can cause.
const maxSecretsChecked = 8

// TokenHandler serves POST /api/oauth/token (grant_type=client_credentials).
func (o *OAuth) TokenHandler() http.Handler { return o.observed(o.token) }

// RevokeHandler serves POST /api/oauth/revoke (RFC 7009): the client revokes
// one of its own access tokens. Unknown tokens and other clients' tokens get
// the same 200, so the endpoint reveals nothing about them.
func (o *OAuth) RevokeHandler() http.Handler { return o.observed(o.revoke) }

// observed adapts an endpoint that answers the request and reports its
// outcome into a handler that passes the outcome to Observe.
func (o *OAuth) observed(serve func(http.ResponseWriter, *http.Request) (subject string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject, err := serve(w, r)
		if o.cfg.Observe != nil {
			o.cfg.Observe(r, subject, err)
		}
	})
}

func (o *OAuth) token(w http.ResponseWriter, r *http.Request) (string, error) {
	client, form, err := o.begin(w, r)
	if err != nil {
		return "", err
	}
	switch gt := form.Get("grant_type"); {
	case gt == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "The grant_type parameter is required.")
		return "", fail(ReasonInvalidRequest)
	case gt != "client_credentials":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Only the client_credentials grant is supported.")
		return "", fail(ReasonUnsupportedGrant)
	}
	subject, secretID, err := o.authenticate(w, r, client)
	if err != nil {
		return subject, err
	}
	tok := credential.NewAccessToken()
	now := o.cfg.Clock.Now()
	if err := o.tokens.CreateToken(r.Context(), Token{
		Digest: credential.TokenDigest(tok), Subject: subject, SecretID: secretID, ExpiresAt: now.Add(o.cfg.TokenTTL),
	}); err != nil {
		o.cfg.WriteError(w, r, flexd.UnexpectedError())
		return subject, fmt.Errorf("auth: storing token: %w", err)
	}
	body, _ := jsonMarshal(struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}{tok, int64(o.cfg.TokenTTL / time.Second), "Bearer"})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	_, _ = w.Write(body)
	return subject, nil
}

func (o *OAuth) revoke(w http.ResponseWriter, r *http.Request) (string, error) {
	client, form, err := o.begin(w, r)
	if err != nil {
		return "", err
	}
	tok := form.Get("token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is required.")
		return "", fail(ReasonInvalidRequest)
	}
	// token_type_hint is only a hint (RFC 7009 §2.1); flexd has one kind.
	subject, _, err := o.authenticate(w, r, client)
	if err != nil {
		return subject, err
	}
	if err := o.tokens.RevokeToken(r.Context(), subject, credential.TokenDigest(tok)); err != nil {
		o.cfg.WriteError(w, r, flexd.UnexpectedError())
		return subject, fmt.Errorf("auth: revoking token: %w", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return subject, nil
}

// begin does what both endpoints share before authenticating: method, form,
// credentials extraction and rate limits. When it refuses the request it
// has already answered it, and returns the *Failure to observe.
func (o *OAuth) begin(w http.ResponseWriter, r *http.Request) (clientAuth, url.Values, error) {
	refuse := func(status int, code, desc string, reason Reason) (clientAuth, url.Values, error) {
		oauthError(w, status, code, desc)
		return clientAuth{}, nil, fail(reason)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return refuse(http.StatusMethodNotAllowed, "invalid_request", "Use POST.", ReasonInvalidRequest)
	}
	form, err := readForm(w, r)
	if err != nil {
		return refuse(http.StatusBadRequest, "invalid_request",
			"Send an application/x-www-form-urlencoded body with each parameter once.", ReasonInvalidRequest)
	}
	client, credErr := clientCredentials(r.Header.Get("Authorization"), form)
	ip := o.cfg.ClientIP(r)
	if o.cfg.Limiter != nil {
		if ok, ra := o.cfg.Limiter.Allow(failureKey(ip, client.id)); !ok {
			o.limited(w, r, o.cfg.Limiter, ra)
			return clientAuth{}, nil, fail(ReasonRateLimited)
		}
	}
	switch {
	case errors.Is(credErr, errInvalidRequest):
		return refuse(http.StatusBadRequest, "invalid_request",
			"Authenticate the client with one method only.", ReasonInvalidRequest)
	case credErr != nil:
		return clientAuth{}, nil, o.refuseClient(w, r, client.id, fail(ReasonBadHeader))
	}
	return client, form, nil
}

func (o *OAuth) limited(w http.ResponseWriter, r *http.Request, l *Limiter, retryAfter time.Duration) {
	w.Header().Set("Cache-Control", "no-store")
	o.cfg.WriteError(w, r, l.Error(r.URL.Path, retryAfter))
}

// authenticate checks the client's secret against its stored hashes and
// answers invalid_client itself on failure. It returns the subject and the
// id of the secret that matched. Unknown ids and wrong secrets
// get the same answer; an unknown id skips bcrypt, since ids are 96 random
// bits and a dummy comparison would only hand out free CPU burns.
func (o *OAuth) authenticate(w http.ResponseWriter, r *http.Request, c clientAuth) (string, string, error) {
	subject, secrets, err := o.accounts.ClientSecrets(r.Context(), c.id)
	if errors.Is(err, flexd.ErrNotFound) {
		return "", "", o.refuseClient(w, r, c.id, fail(ReasonUnknownClient))
	}
	if err != nil {
		o.cfg.WriteError(w, r, flexd.UnexpectedError())
		return "", "", fmt.Errorf("auth: looking up client: %w", err)
	}
	now := o.cfg.Clock.Now()
	var expired []ClientSecret
	for i, s := range secrets {
		if i == maxSecretsChecked {
			break
		}
		if !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) {
			expired = append(expired, s)
			continue
		}
		if credential.CheckSecret(s.Hash, c.secret) {
			return subject, s.ID, nil
		}
	}
	reason := ReasonWrongSecret
	// Only to tell the operator why: the client hears invalid_client.
	for _, s := range expired {
		if credential.CheckSecret(s.Hash, c.secret) {
			reason = ReasonExpiredSecret
			break
		}
	}
	return "", "", o.refuseClient(w, r, c.id, &Failure{Reason: reason, Subject: subject})
}

// refuseClient answers a failed client authentication: invalid_client, or
// 429 once the address has failed too often for this client id. It
// returns f to observe.
func (o *OAuth) refuseClient(w http.ResponseWriter, r *http.Request, clientID string, f *Failure) *Failure {
	if l := o.cfg.FailureLimiter; l != nil {
		if ok, ra := l.Allow(failureKey(o.cfg.ClientIP(r), clientID)); !ok {
			o.limited(w, r, l, ra)
			return f
		}
	}
	invalidClient(w)
	return f
}

// invalidClient answers RFC 6749 §5.2 invalid_client. 401 with a Basic
// challenge is required when the client tried the Authorization header and
// allowed otherwise, so every client hears the same.
func invalidClient(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+credential.Realm+`"`)
	oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client credentials.")
}

// oauthError writes an RFC 6749 §5.2 error, which x/oauth2 decodes into
// oauth2.RetrieveError.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	body, _ := jsonMarshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, desc})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonMarshal is json.Marshal without HTML escaping, which would only make
// bodies differ from Atlas's.
func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
