// Package auth holds flexd's authentication primitives, wire-compatible with
// what the official Atlas clients send: HTTP Digest for API keys (as
// github.com/mongodb-forks/digest speaks it, which the Go SDK, Atlas CLI and
// Terraform use) and OAuth 2.0 client credentials for service accounts, plus
// token-bucket limiters for the token endpoint and failed logins.
//
// The package knows nothing about routes or SQL. What it needs from storage is
// spelled out as small interfaces next to the code that uses them
// (DigestCredentials, NonceCounter, ServiceAccounts, TokenStore); in-memory
// implementations live in memory.go for tests and single-node use, and
// StoreCredentials (store.go) serves all four from a flexd.IdentityStore so
// that replicas and restarts share them. Authenticator (authenticator.go)
// puts the pieces together for the API server: Digest or Bearer by scheme,
// the caller's roles loaded fresh on every request, failed attempts (and
// only those: valid credentials are always accepted) throttled per address
// and claimed identity.
//
// Secrets never leave this package in clear: the store keeps Digest HA1
// values (sealed at rest by package seal, in the sqlstore), bcrypt hashes of
// client secrets and SHA-256 digests of access tokens. Failures are reported as *Failure values whose Reason is a small,
// fixed vocabulary that is safe to log and to use as a metric label; the
// client always gets the same answer whatever the reason.
package auth
