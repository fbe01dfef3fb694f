// Package dbauth is what a cluster endpoint asks before it serves a client,
// the way Atlas guards its clusters: is the client's address on the
// project's IP access list (Gate), and who is it (a SCRAM conversation
// against the project's database users, Authenticator).
//
// The package knows nothing of the wire protocol: the wire front decodes
// saslStart and saslContinue, hands their mechanism and payload bytes over,
// and sends back the payloads and errors it gets. Every way authentication
// can fail (a wrong password, an unknown user, a user scoped to other
// clusters, an expired temporary user) ends the same way, at the same step,
// with MongoDB's error 18 AuthenticationFailed, so that a client learns
// nothing about which users exist.
package dbauth
