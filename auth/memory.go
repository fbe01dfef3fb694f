package auth

import (
	"context"
	"sync"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// MemoryDigestCredentials is a DigestCredentials held in a map, for tests
// and for wiring the server before the store exists.
type MemoryDigestCredentials struct {
	mu   sync.RWMutex
	keys map[string]DigestKey
}

// NewMemoryDigestCredentials returns an empty set of API keys.
func NewMemoryDigestCredentials() *MemoryDigestCredentials {
	return &MemoryDigestCredentials{keys: make(map[string]DigestKey)}
}

// Add stores an API key, computing its HA1 values. The private key itself is
// not kept, exactly as a real store must not keep it.
func (m *MemoryDigestCredentials) Add(subject, publicKey, privateKey string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[publicKey] = DigestKey{
		Subject:   subject,
		HA1MD5:    credential.HA1(AlgorithmMD5, publicKey, privateKey),
		HA1SHA256: credential.HA1(AlgorithmSHA256, publicKey, privateKey),
	}
}

// DigestHA1 implements DigestCredentials.
func (m *MemoryDigestCredentials) DigestHA1(_ context.Context, publicKey string) (DigestKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.keys[publicKey]
	if !ok {
		return DigestKey{}, flexd.ErrNotFound
	}
	return k, nil
}

// MemoryServiceAccounts is a ServiceAccounts held in a map.
type MemoryServiceAccounts struct {
	mu       sync.RWMutex
	accounts map[string]memoryAccount
}

type memoryAccount struct {
	subject string
	secrets []ClientSecret
}

// NewMemoryServiceAccounts returns an empty set of service accounts.
func NewMemoryServiceAccounts() *MemoryServiceAccounts {
	return &MemoryServiceAccounts{accounts: make(map[string]memoryAccount)}
}

// Add gives clientID (authenticating as subject) another secret.
func (m *MemoryServiceAccounts) Add(clientID, subject string, secret ClientSecret) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[clientID]
	a.subject = subject
	a.secrets = append(a.secrets, secret)
	m.accounts[clientID] = a
}

// ClientSecrets implements ServiceAccounts.
func (m *MemoryServiceAccounts) ClientSecrets(_ context.Context, clientID string) (string, []ClientSecret, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.accounts[clientID]
	if !ok {
		return "", nil, flexd.ErrNotFound
	}
	return a.subject, append([]ClientSecret(nil), a.secrets...), nil
}

// MemoryTokenStore is a TokenStore held in memory. It forgets tokens once
// they expire, so its size is bounded by the tokens issued in one lifetime.
type MemoryTokenStore struct {
	clock  flexd.Clock
	mu     sync.Mutex
	tokens *expiringMap[string, Token]
}

// NewMemoryTokenStore returns an empty store timed by clock (the system clock
// when nil).
func NewMemoryTokenStore(clock flexd.Clock) *MemoryTokenStore {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	return &MemoryTokenStore{clock: clock, tokens: newExpiringMap[string, Token]()}
}

// CreateToken implements TokenStore.
func (m *MemoryTokenStore) CreateToken(_ context.Context, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens.prune(m.clock.Now())
	if _, ok := m.tokens.get(t.Digest); ok {
		return flexd.ErrConflict
	}
	m.tokens.put(t.Digest, t, t.ExpiresAt)
	return nil
}

// Token implements TokenStore.
func (m *MemoryTokenStore) Token(_ context.Context, digest string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens.get(digest)
	if !ok {
		return Token{}, flexd.ErrNotFound
	}
	return t, nil
}

// RevokeToken implements TokenStore.
func (m *MemoryTokenStore) RevokeToken(_ context.Context, subject, digest string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens.get(digest); ok && t.Subject == subject {
		t.Revoked = true
		m.tokens.put(digest, t, t.ExpiresAt)
	}
	return nil
}

// Len reports how many tokens the store holds.
func (m *MemoryTokenStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens.len()
}
