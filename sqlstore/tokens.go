package sqlstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// Access tokens, Digest nonces and server keys: the state authentication
// shares between replicas and across restarts.

const tokenColumns = "digest, subject, secret_id, expires_at, revoked"

func scanToken(r rowScanner, t *flexd.AccessToken) error {
	return r.Scan(&t.Digest, &t.Subject, &t.SecretID, unixTime{&t.ExpiresAt}, &t.Revoked)
}

// CreateAccessToken stores a token's digest.
func (s *Store) CreateAccessToken(ctx context.Context, t *flexd.AccessToken) error {
	r := s.run()
	_, err := r.exec(ctx, "INSERT INTO access_tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?)",
		t.Digest, t.Subject, t.SecretID, unixSeconds(t.ExpiresAt), t.Revoked)
	if err != nil {
		return s.writeErr(err, "create access token of "+t.Subject)
	}
	r.touch(flexd.CredentialParent(t.Subject))
	t.ExpiresAt = wholeSecondUTC(t.ExpiresAt)
	return nil
}

// GetAccessToken reads the token with this digest.
func (s *Store) GetAccessToken(ctx context.Context, digest string) (*flexd.AccessToken, error) {
	return getOne(ctx, s.run(), "access token", "SELECT "+tokenColumns+" FROM access_tokens WHERE digest = ?",
		[]any{digest}, scanToken)
}

// RevokeAccessToken revokes the token if subject owns it; otherwise it does
// nothing, so a client learns nothing about other clients' tokens.
func (s *Store) RevokeAccessToken(ctx context.Context, subject, digest string) error {
	r := s.run()
	_, err := r.exec(ctx, "UPDATE access_tokens SET revoked = ? WHERE digest = ? AND subject = ?",
		true, digest, subject)
	if err != nil {
		return fmt.Errorf("revoke access token of %s: %w", subject, err)
	}
	r.touch(flexd.CredentialParent(subject))
	return nil
}

// revokeTokens revokes every token whose column col (subject or secret_id)
// is v.
func revokeTokens(ctx context.Context, r runner, col, v string) error {
	if _, err := r.exec(ctx, "UPDATE access_tokens SET revoked = ? WHERE "+col+" = ?", true, v); err != nil {
		return fmt.Errorf("revoke access tokens by %s: %w", col, err)
	}
	return nil
}

// UseNonce records a (nonce, nc) pair. ON CONFLICT DO NOTHING makes the
// check and the record one atomic statement on both databases: of two
// replicas receiving the same pair, exactly one inserts it.
func (s *Store) UseNonce(ctx context.Context, nonce string, nc uint32, expires time.Time) (bool, error) {
	res, err := s.run().exec(ctx, "INSERT INTO digest_nonces (nonce, nc, expires_at) VALUES (?, ?, ?)"+
		" ON CONFLICT (nonce, nc) DO NOTHING", nonce, int64(nc), unixSeconds(expires))
	if err != nil {
		return false, fmt.Errorf("record nonce use: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record nonce use: %w", err)
	}
	return n == 1, nil
}

// DeleteExpiredCredentials forgets nonces and tokens past their expiry,
// touching only the service accounts whose tokens went.
func (s *Store) DeleteExpiredCredentials(ctx context.Context, now time.Time) error {
	r := s.run()
	if _, err := r.exec(ctx, "DELETE FROM digest_nonces WHERE expires_at <= ?", unixSeconds(now)); err != nil {
		return fmt.Errorf("delete expired digest_nonces: %w", err)
	}
	subjects, err := queryAll(ctx, r, "DELETE FROM access_tokens WHERE expires_at <= ? RETURNING subject",
		[]any{unixSeconds(now)}, func(row rowScanner, s *string) error { return row.Scan(s) })
	if err != nil {
		return fmt.Errorf("delete expired access_tokens: %w", err)
	}
	for _, sub := range subjects {
		r.touch(flexd.CredentialParent(sub))
	}
	return nil
}

// ServerKey returns the key stored under name, storing candidate first when
// there is none. Insert-or-ignore then read: of replicas starting together,
// the first insert wins and all read the same key.
func (s *Store) ServerKey(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	where := serverKeyWhere(name)
	if _, err := s.run().exec(ctx, "INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
		name, s.sealValue(hex.EncodeToString(candidate), where)); err != nil {
		return nil, fmt.Errorf("store server key %s: %w", name, err)
	}
	var v string
	if err := s.run().queryRow(ctx, "SELECT value FROM server_keys WHERE name = ?", name).Scan(&v); err != nil {
		return nil, fmt.Errorf("read server key %s: %w", name, err)
	}
	v, err := s.openValue(v, where)
	if err != nil {
		return nil, fmt.Errorf("server key %s: %w", name, err)
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("server key %s is not hex: %w", name, err)
	}
	return key, nil
}
