package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// maxBearerToken bounds what is hashed and looked up; flexd's tokens are 43
// characters.
const maxBearerToken = 512

// BearerVerifier authenticates API calls made with an access token from the
// token endpoint.
type BearerVerifier struct {
	tokens TokenStore
	clock  flexd.Clock
}

// NewBearerVerifier returns a verifier looking tokens up in tokens, timed by
// clock (the system clock when nil).
func NewBearerVerifier(tokens TokenStore, clock flexd.Clock) *BearerVerifier {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	return &BearerVerifier{tokens: tokens, clock: clock}
}

// Verify authenticates r's "Authorization: Bearer <token>" header and returns
// the token's subject. A rejected token is a *Failure; any other error means
// the store failed. The token is looked up by its digest, so the store never
// compares, or holds, a usable token.
func (v *BearerVerifier) Verify(r *http.Request) (string, error) {
	h, f := authorizationHeader(r)
	if f != nil {
		return "", f
	}
	tok, ok := bearerToken(h)
	if !ok {
		return "", fail(ReasonBadHeader)
	}
	t, err := v.tokens.Token(r.Context(), credential.TokenDigest(tok))
	switch {
	case errors.Is(err, flexd.ErrNotFound):
		return "", fail(ReasonUnknownToken)
	case err != nil:
		return "", fmt.Errorf("auth: looking up token: %w", err)
	case t.Revoked:
		return "", &Failure{Reason: ReasonRevokedToken, Subject: t.Subject}
	case !v.clock.Now().Before(t.ExpiresAt):
		return "", &Failure{Reason: ReasonExpiredToken, Subject: t.Subject}
	}
	return t.Subject, nil
}

// bearerToken extracts the token68 of a Bearer Authorization header (RFC 6750
// §2.1), scheme compared case-insensitively.
func bearerToken(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok := strings.Trim(rest, " ")
	if tok == "" || len(tok) > maxBearerToken {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~+/", c) >= 0:
		case c == '=' && i > 0 && strings.Trim(tok[i:], "=") == "": // padding only at the end
			return tok, true
		default:
			return "", false
		}
	}
	return tok, true
}
