package auth

import "net/http"

// Reason says why an authentication attempt failed. The set is small and
// fixed so it can be a log field and a metric label; it never carries
// anything the client sent.
type Reason string

// Reasons shared by every scheme.
const (
	// ReasonMissing: no credentials at all. For Digest this is the normal
	// first leg of every call, so callers should not count it as a failure.
	ReasonMissing   Reason = "missing"
	ReasonBadHeader Reason = "bad_header" // unparseable or incomplete credentials
)

// Digest reasons.
const (
	ReasonWrongRealm    Reason = "wrong_realm"
	ReasonBadAlgorithm  Reason = "bad_algorithm"
	ReasonBadQop        Reason = "bad_qop" // qop missing or not "auth"
	ReasonWrongURI      Reason = "wrong_uri"
	ReasonForgedNonce   Reason = "forged_nonce" // not a nonce this server (key) issued
	ReasonUnknownUser   Reason = "unknown_user"
	ReasonWrongResponse Reason = "wrong_response" // wrong private key, or tampered request line
	ReasonStaleNonce    Reason = "stale_nonce"    // right key, expired nonce: answer stale=true
	ReasonReplay        Reason = "replay"         // (nonce, nc) already used
)

// Bearer token reasons.
const (
	ReasonUnknownToken Reason = "unknown_token"
	ReasonExpiredToken Reason = "expired_token"
	ReasonRevokedToken Reason = "revoked_token"
)

// OAuth token endpoint reasons.
const (
	ReasonInvalidRequest   Reason = "invalid_request"
	ReasonUnsupportedGrant Reason = "unsupported_grant_type"
	ReasonUnknownClient    Reason = "unknown_client"
	ReasonWrongSecret      Reason = "wrong_secret"
	ReasonExpiredSecret    Reason = "expired_secret"
	ReasonRateLimited      Reason = "rate_limited"
)

// Failure is a rejected authentication attempt. Any other error from a
// verifier is an infrastructure failure (a store is down) and deserves a 5xx,
// not a 401.
type Failure struct {
	Reason Reason
	// Stale asks for a Digest challenge with stale=true: the client knew
	// the key but its nonce had expired.
	Stale bool
	// Subject is the API key id or service account the client proved or
	// claimed to be, set only once the store recognised the public key or
	// client id, so a private key pasted into the username field is never
	// echoed into logs.
	Subject string
}

func (f *Failure) Error() string {
	if f.Subject != "" {
		return "auth: " + string(f.Reason) + " (" + f.Subject + ")"
	}
	return "auth: " + string(f.Reason)
}

func fail(r Reason) *Failure { return &Failure{Reason: r} }

// authorizationHeader returns r's one Authorization header. Several are
// refused: which one a proxy or framework would pick is anyone's guess.
func authorizationHeader(r *http.Request) (string, *Failure) {
	vals := r.Header.Values("Authorization")
	switch {
	case len(vals) == 0 || vals[0] == "":
		return "", fail(ReasonMissing)
	case len(vals) > 1:
		return "", fail(ReasonBadHeader)
	}
	return vals[0], nil
}
