package auth

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/flexd/flexd"
)

// StoreCredentials serves the verifiers and the OAuth endpoints from a
// flexd.IdentityStore, so that API keys, service accounts, issued tokens
// and used nonces are shared by every replica and survive restarts. It
// implements DigestCredentials, NonceCounter, ServiceAccounts and
// TokenStore.
type StoreCredentials struct {
	store flexd.IdentityStore
	clock flexd.Clock
	// pruned is when expired nonces and tokens were last deleted (unix
	// seconds): at most once per pruneEvery, by whichever request comes.
	pruned atomic.Int64
}

var (
	_ DigestCredentials = (*StoreCredentials)(nil)
	_ NonceCounter      = (*StoreCredentials)(nil)
	_ ServiceAccounts   = (*StoreCredentials)(nil)
	_ TokenStore        = (*StoreCredentials)(nil)
)

// pruneEvery bounds how often expired credentials are deleted: often
// enough that the tables stay the size of what is live, rarely enough to
// cost nothing per request.
const pruneEvery = time.Minute

// NewStoreCredentials returns the adapter over store, timed by clock (the
// system clock when nil).
func NewStoreCredentials(store flexd.IdentityStore, clock flexd.Clock) *StoreCredentials {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	return &StoreCredentials{store: store, clock: clock}
}

// nonceKeyName is the server key the Digest nonces are signed with.
const nonceKeyName = "digest-nonce-hmac"

// NonceKey returns the key Digest nonces are signed with, generating and
// storing it on first use: every replica and every restart then accepts
// the nonces any of them issued.
func NonceKey(ctx context.Context, store flexd.IdentityStore) ([]byte, error) {
	k, err := store.ServerKey(ctx, nonceKeyName, NewKey())
	if err != nil {
		return nil, fmt.Errorf("auth: nonce key: %w", err)
	}
	return k, nil
}

// DigestHA1 implements DigestCredentials. It returns the key it read too,
// so the Authenticator needs no second read to learn the key's roles.
func (c *StoreCredentials) DigestHA1(ctx context.Context, publicKey string) (DigestKey, error) {
	k, err := c.store.GetAPIKeyByPublicKey(ctx, publicKey)
	if err != nil {
		return DigestKey{}, err
	}
	return DigestKey{Subject: k.ID, HA1MD5: k.HA1MD5, HA1SHA256: k.HA1SHA256, APIKey: k}, nil
}

// Use implements NonceCounter.
func (c *StoreCredentials) Use(ctx context.Context, nonce string, nc uint32, expires time.Time) (bool, error) {
	c.prune(ctx)
	return c.store.UseNonce(ctx, nonce, nc, expires)
}

// ClientSecrets implements ServiceAccounts: tokens authenticate as the
// client id.
func (c *StoreCredentials) ClientSecrets(ctx context.Context, clientID string) (string, []ClientSecret, error) {
	a, err := c.store.GetServiceAccount(ctx, clientID)
	if err != nil {
		return "", nil, err
	}
	secrets := make([]ClientSecret, len(a.Secrets))
	for i, s := range a.Secrets {
		secrets[i] = ClientSecret{ID: s.ID, Hash: s.Hash, ExpiresAt: s.ExpiresAt}
	}
	return a.ClientID, secrets, nil
}

// CreateToken implements TokenStore, and records that the secret the token
// was issued against has been used (the spec's lastUsedAt).
func (c *StoreCredentials) CreateToken(ctx context.Context, t Token) error {
	c.prune(ctx)
	if err := c.store.CreateAccessToken(ctx, &flexd.AccessToken{
		Digest: t.Digest, Subject: t.Subject, SecretID: t.SecretID, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked,
	}); err != nil {
		return err
	}
	if t.SecretID == "" {
		return nil
	}
	// The secret may have been deleted meanwhile; its tokens then stay
	// revoked by the delete, which ran before or runs after this insert.
	err := c.store.TouchServiceAccountSecret(ctx, t.SecretID, c.clock.Now())
	if errors.Is(err, flexd.ErrNotFound) {
		return nil
	}
	return err
}

// Token implements TokenStore.
func (c *StoreCredentials) Token(ctx context.Context, digest string) (Token, error) {
	t, err := c.store.GetAccessToken(ctx, digest)
	if err != nil {
		return Token{}, err
	}
	return Token{Digest: t.Digest, Subject: t.Subject, SecretID: t.SecretID, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked}, nil
}

// RevokeToken implements TokenStore.
func (c *StoreCredentials) RevokeToken(ctx context.Context, subject, digest string) error {
	return c.store.RevokeAccessToken(ctx, subject, digest)
}

// prune deletes expired nonces and tokens when pruneEvery has passed since
// the last time. A failure is left for the next turn: the rows are only
// dead weight, never accepted (the verifiers check expiry themselves).
func (c *StoreCredentials) prune(ctx context.Context) {
	now := c.clock.Now()
	last := c.pruned.Load()
	if now.Unix()-last < int64(pruneEvery/time.Second) || !c.pruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	_ = c.store.DeleteExpiredCredentials(ctx, now)
}
