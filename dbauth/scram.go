package dbauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"

	"github.com/flexd/flexd"
	"github.com/xdg-go/scram"
)

// Error is a MongoDB command error, as the wire front sends it: code,
// codeName and errmsg.
type Error struct {
	Code     int
	CodeName string
	Message  string
}

func (e *Error) Error() string { return e.CodeName + ": " + e.Message }

// ErrAuthenticationFailed is every failed authentication, whatever the
// reason (MongoDB's words).
var ErrAuthenticationFailed = &Error{Code: 18, CodeName: "AuthenticationFailed", Message: "Authentication failed."}

// mechanismUnavailable is MongoDB's answer to a mechanism it does not
// offer.
func mechanismUnavailable(mechanism string) *Error {
	return &Error{Code: 334, CodeName: "MechanismUnavailable",
		Message: "Received authentication for mechanism " + mechanism + " which is not enabled"}
}

// maxPayload bounds a SCRAM message; real ones are a few hundred bytes.
const maxPayload = 4096

// Users is what authentication reads: the project's database users.
type Users interface {
	GetDatabaseUser(ctx context.Context, groupID, databaseName, username string) (*flexd.DatabaseUser, error)
}

// Target is what a connection reached: a cluster of a project, and the
// database saslStart ran on ($db; SCRAM users live in admin).
type Target struct {
	GroupID  string
	Cluster  string
	Database string
}

// User is an authenticated database user: what authorization needs.
type User struct {
	GroupID  string
	Username string
	Roles    []flexd.DatabaseUserRole
	Scopes   []flexd.UserScope
}

// Authenticator runs the server side of SCRAM conversations against a
// store's database users.
type Authenticator struct {
	users Users
	clock flexd.Clock
	// decoyKey makes the keys of users that do not exist: stable per name,
	// so that asking twice shows the same salt, and unknowable.
	decoyKey []byte
}

// New returns an Authenticator over users; a nil clock is the system
// clock.
func New(users Users, clock flexd.Clock) *Authenticator {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Authenticator{users: users, clock: clock, decoyKey: key}
}

// Conversation is one client's SCRAM exchange.
type Conversation struct {
	a      *Authenticator
	conv   *scram.ServerConversation
	target Target
	// user is the user the client named, nil while unknown; refused is set
	// when it may not log in here, which the client learns only at the
	// final step, like a wrong password.
	user    *flexd.DatabaseUser
	refused bool
	// lookupErr is a store failure during the lookup; the client sees
	// AuthenticationFailed and the wire front may log it.
	lookupErr error
	done      bool
}

// Start begins a conversation with saslStart's mechanism and payload (the
// client-first message) and returns the server-first message.
func (a *Authenticator) Start(ctx context.Context, t Target, mechanism string, payload []byte) (*Conversation, []byte, error) {
	var hash scram.HashGeneratorFcn
	switch mechanism {
	case SHA1:
		hash = scram.SHA1
	case SHA256:
		hash = scram.SHA256
	default:
		return nil, nil, mechanismUnavailable(mechanism)
	}
	if len(payload) > maxPayload {
		return nil, nil, ErrAuthenticationFailed
	}
	c := &Conversation{a: a, target: t}
	server, err := hash.NewServer(func(username string) (scram.StoredCredentials, error) {
		return c.lookup(ctx, mechanism, username), nil
	})
	if err != nil {
		return nil, nil, err
	}
	c.conv = server.NewConversation()
	reply, err := c.conv.Step(string(payload))
	if err != nil {
		return nil, nil, ErrAuthenticationFailed
	}
	return c, []byte(reply), nil
}

// Continue takes a saslContinue payload. The client-final message answers
// the server-final message and done: the exchange is over for a client
// that asked to skip the empty last round (MongoDB's skipEmptyExchange);
// for one that did not, the wire front answers done=false first and the
// empty payload that follows gets done. Any failure is
// ErrAuthenticationFailed.
func (c *Conversation) Continue(payload []byte) (reply []byte, done bool, err error) {
	if c.done {
		if len(payload) != 0 {
			return nil, false, ErrAuthenticationFailed
		}
		return nil, true, nil
	}
	if len(payload) > maxPayload {
		return nil, false, ErrAuthenticationFailed
	}
	final, err := c.conv.Step(string(payload))
	if err != nil || !c.conv.Valid() || c.user == nil || c.refused {
		return nil, false, ErrAuthenticationFailed
	}
	c.done = true
	return []byte(final), true, nil
}

// User is the authenticated user once Continue reported done, else nil.
func (c *Conversation) User() *User {
	if !c.done {
		return nil
	}
	u := c.user
	return &User{GroupID: u.GroupID, Username: u.Username, Roles: slices.Clone(u.Roles), Scopes: slices.Clone(u.Scopes)}
}

// LookupError is the store failure met while looking the user up, if any,
// for the wire front's log; the client was told AuthenticationFailed.
func (c *Conversation) LookupError() error { return c.lookupErr }

// lookup returns the keys the client must prove it knows. A user that
// does not exist, has expired or may not reach this cluster gets keys too
// (a decoy's, or its own), so the conversation goes on to the final step
// and fails there, as a wrong password does.
func (c *Conversation) lookup(ctx context.Context, mechanism, username string) scram.StoredCredentials {
	db := c.target.Database
	u, err := c.a.users.GetDatabaseUser(ctx, c.target.GroupID, db, username)
	if err != nil {
		if !errors.Is(err, flexd.ErrNotFound) {
			c.lookupErr = err
		}
		return c.a.decoy(mechanism, username)
	}
	c.user = u
	if u.Expired(c.a.clock.Now()) || !u.Reaches(c.target.Cluster) || db != flexd.AdminDatabase {
		c.refused = true
	}
	k := u.SCRAM.SHA256
	if mechanism == SHA1 {
		k = u.SCRAM.SHA1
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(k.Salt), Iters: k.Iterations},
		StoredKey:  k.StoredKey,
		ServerKey:  k.ServerKey,
	}
}

// decoy returns keys for a user that does not exist, the same each time
// for the same name and mechanism, with a salt and iteration count shaped
// like a real user's.
func (a *Authenticator) decoy(mechanism, username string) scram.StoredCredentials {
	derive := func(label string, n int) []byte {
		m := hmac.New(sha256.New, a.decoyKey)
		m.Write([]byte(label + "\x00" + mechanism + "\x00" + username))
		return m.Sum(nil)[:n]
	}
	saltLen, iters, keyLen := sha256SaltLen, DefaultSHA256Iterations, 32
	if mechanism == SHA1 {
		saltLen, iters, keyLen = sha1SaltLen, DefaultSHA1Iterations, 20
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(derive("salt", saltLen)), Iters: iters},
		StoredKey:  derive("stored", keyLen),
		ServerKey:  derive("server", keyLen),
	}
}
