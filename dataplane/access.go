package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dbauth"
	"github.com/flexd/flexd/mongowire"
)

// AccessStore is what guarding the endpoints reads: which project and name
// a cluster has, the project's database users and its IP access list.
// sqlstore.Store is one.
type AccessStore interface {
	GetFlexClusterByID(ctx context.Context, id string) (*flexd.FlexCluster, error)
	dbauth.Users
	dbauth.AccessLists
}

// Access guards every endpoint of a Plane the way Atlas guards a cluster:
// a connection from an address the project's IP access list does not hold
// is closed before its first byte is read; a client must then authenticate
// with SCRAM as one of the project's database users that may reach the
// cluster (package dbauth), and until it has, it may run the handshake
// commands only. Changes reach open connections at once: Plane's
// DatabaseUserChanged and AccessListChanged, and its Recheck for what
// expires on flexd's clock.
type Access struct {
	store AccessStore
	clock flexd.Clock
	auth  *dbauth.Authenticator
	gate  *dbauth.Gate
	log   *slog.Logger

	// epoch counts user revocations; revoked holds the epoch of each
	// user's latest. A session compares them with the epoch at which it
	// began to authenticate, which closes the window between a
	// conversation reading a user and the front publishing who logged in
	// (a revocation in between would find no connection to close).
	epoch   atomic.Uint64
	mu      sync.Mutex
	revoked map[userKey]uint64
}

type userKey struct{ groupID, username string }

// NewAccess returns the guard of a Plane's endpoints over store; a nil
// clock is the system clock, whose time decides what has expired.
func NewAccess(store AccessStore, clock flexd.Clock, log *slog.Logger) *Access {
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Access{store: store, clock: clock, auth: dbauth.New(store, clock), gate: dbauth.NewGate(store, clock),
		log: log, revoked: map[userKey]uint64{}}
}

// mechanisms are what a hello offers in saslSupportedMechs, for any user.
var mechanisms = []string{dbauth.SHA1, dbauth.SHA256}

// options are the front's hooks for cluster c.
func (a *Access) options(c *flexd.FlexCluster) mongowire.Options {
	g := &guard{a: a, groupID: c.GroupID, cluster: c.Name, id: c.ID}
	return mongowire.Options{Auth: g, Allow: g.allow, Mechanisms: mechanisms}
}

// revoke records that the user's sessions must end: a session that began
// to authenticate before now no longer counts.
func (a *Access) revoke(groupID, username string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked[userKey{groupID, username}] = a.epoch.Add(1)
}

// revokedSince reports whether the user was revoked after epoch, and the
// epoch up to which that answer holds.
func (a *Access) revokedSince(groupID, username string, epoch uint64) (bool, uint64) {
	if a.epoch.Load() == epoch { // the common case: one atomic load
		return false, epoch
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revoked[userKey{groupID, username}] > epoch, a.epoch.Load()
}

// entries reads the project's whole access list.
func (a *Access) entries(ctx context.Context, groupID string, now time.Time) ([]flexd.AccessListEntry, error) {
	const pageSize = 500
	var all []flexd.AccessListEntry
	for page := 1; ; page++ {
		es, _, err := a.store.ListAccessListEntries(ctx, groupID, now, flexd.Page{Num: page, ItemsPerPage: pageSize})
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
		if len(es) < pageSize {
			return all, nil
		}
	}
}

// guard is one cluster's mongowire.Authenticator.
type guard struct {
	a       *Access
	groupID string
	cluster string
	id      string
}

// session is what a guard keeps of a connection (mongowire.Session.State).
type session struct {
	conv      *dbauth.Conversation
	convEpoch uint64 // Access.epoch when the conversation began
	skipEmpty bool   // the client asked for skipEmptyExchange
	proven    bool   // the proof checked out; the empty last round is due
	mechanism string

	user  *dbauth.User
	epoch uint64 // Access.epoch when user's conversation began
}

func state(s *mongowire.Session) *session {
	st, _ := s.State.(*session)
	if st == nil {
		st = &session{}
		s.State = st
	}
	return st
}

// allow is the front's Allow: the project's access list, read at the
// moment of the connection; a store that cannot be read lets no one in.
func (g *guard) allow(remote net.Addr) bool {
	addr := remoteAddr(remote)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if g.a.gate.Allowed(ctx, g.groupID, addr) {
		return true
	}
	g.a.log.Info("cluster connection refused: the project's IP access list does not hold the address",
		"cluster", g.cluster, "group_id", g.groupID, "remote", addr.String())
	return false
}

func remoteAddr(remote net.Addr) netip.Addr {
	if t, ok := remote.(*net.TCPAddr); ok {
		return t.AddrPort().Addr()
	}
	ap, _ := netip.ParseAddrPort(remote.String())
	return ap.Addr()
}

// MongoDB's errors for the authentication commands.
var (
	errNoConversation = &mongowire.CommandError{Code: 17, CodeName: "ProtocolError", Message: "No SASL session state found"}
)

func commandError(err error) error {
	var e *dbauth.Error
	if errors.As(err, &e) {
		return &mongowire.CommandError{Code: int32(e.Code), CodeName: e.CodeName, Message: e.Message}
	}
	return &mongowire.CommandError{Code: 18, CodeName: "AuthenticationFailed", Message: dbauth.ErrAuthenticationFailed.Message}
}

// Authenticate answers saslStart, saslContinue, authenticate and logout.
func (g *guard) Authenticate(ctx context.Context, s *mongowire.Session, db, cmd string, body bson.Raw) (bson.Raw, error) {
	st := state(s)
	switch cmd {
	case "saslStart":
		mech, _ := body.Lookup("mechanism").StringValueOK()
		_, payload, _ := body.Lookup("payload").BinaryOK()
		skip, _ := body.Lookup("options", "skipEmptyExchange").BooleanOK()
		st.conv, st.proven = nil, false
		epoch := g.a.epoch.Load()
		conv, out, err := g.a.auth.Start(ctx, dbauth.Target{GroupID: g.groupID, Cluster: g.cluster, Database: db}, mech, payload)
		if err != nil {
			g.failed(s, mech, err, nil)
			return nil, commandError(err)
		}
		st.conv, st.convEpoch, st.skipEmpty, st.mechanism = conv, epoch, skip, mech
		return saslReply(out, false)
	case "saslContinue":
		if st.conv == nil {
			return nil, errNoConversation
		}
		if id, ok := body.Lookup("conversationId").AsInt64OK(); ok && id != 1 {
			return nil, errNoConversation
		}
		_, payload, _ := body.Lookup("payload").BinaryOK()
		conv := st.conv
		out, done, err := conv.Continue(payload)
		if err != nil {
			st.conv, st.proven = nil, false
			g.failed(s, st.mechanism, err, conv)
			return nil, commandError(err)
		}
		if done && !st.skipEmpty && !st.proven {
			// The server-final message first; the client's empty
			// payload after it ends the exchange.
			st.proven = true
			return saslReply(out, false)
		}
		st.conv, st.proven = nil, false
		u := conv.User()
		revoked, epoch := false, st.convEpoch
		if u != nil {
			revoked, epoch = g.a.revokedSince(g.groupID, u.Username, st.convEpoch)
		}
		if u == nil || revoked {
			g.failed(s, st.mechanism, dbauth.ErrAuthenticationFailed, conv)
			return nil, commandError(dbauth.ErrAuthenticationFailed)
		}
		st.user, st.epoch = u, epoch
		s.User = u.Username
		g.a.log.Debug("cluster client authenticated", "cluster", g.cluster, "group_id", g.groupID,
			"user", u.Username, "mechanism", st.mechanism, "remote", s.RemoteAddr.String())
		return saslReply(out, true)
	case "authenticate":
		// MONGODB-X509 and the MONGODB-CR of old: flexd offers SCRAM only.
		mech, _ := body.Lookup("mechanism").StringValueOK()
		return nil, &mongowire.CommandError{Code: 334, CodeName: "MechanismUnavailable",
			Message: "Received authentication for mechanism " + mech + " which is not enabled"}
	case "logout":
		*st = session{}
		s.User = ""
		return bson.Marshal(bson.D{{Key: "ok", Value: 1.0}})
	}
	return nil, &mongowire.CommandError{Code: 59, CodeName: "CommandNotFound", Message: "no such command: '" + cmd + "'"}
}

// failed logs a failed authentication for the operator (never a secret:
// the client's messages are not logged); a store failure met on the way is
// an error of its own.
func (g *guard) failed(s *mongowire.Session, mech string, err error, conv *dbauth.Conversation) {
	if conv != nil && conv.LookupError() != nil {
		g.a.log.Error("cluster authentication: reading the database user failed", "cluster", g.cluster,
			"group_id", g.groupID, "err", conv.LookupError())
	}
	g.a.log.Info("cluster authentication failed", "cluster", g.cluster, "group_id", g.groupID,
		"mechanism", mech, "remote", s.RemoteAddr.String(), "err", err)
}

func saslReply(payload []byte, done bool) (bson.Raw, error) {
	return bson.Marshal(bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: done},
		{Key: "payload", Value: bson.Binary{Data: payload}}, {Key: "ok", Value: 1.0}})
}

// Authorize lets an unauthenticated client run the handshake only, as
// MongoDB words it ("Command find requires authentication"), and asks
// authorize for an authenticated one. A session whose user was revoked
// after it logged in (its connection about to be closed) is
// unauthenticated again.
func (g *guard) Authorize(s *mongowire.Session, db, cmd string, body bson.Raw) error {
	st := state(s)
	if st.user != nil {
		revoked, epoch := g.a.revokedSince(g.groupID, st.user.Username, st.epoch)
		if revoked {
			*st = session{}
			s.User = ""
		} else {
			st.epoch = epoch
		}
	}
	// A client that has not authenticated (st.user nil) may run the
	// handshake only; dbauth answers the rest as MongoDB does.
	if err := dbauth.Authorize(st.user, db, cmd, body); err != nil {
		return commandError(err)
	}
	return nil
}

// Restrict narrows a listDatabases the user may run but not see whole: to
// the databases its roles name (MongoDB's authorizedDatabases).
func (g *guard) Restrict(s *mongowire.Session, db, cmd string, body bson.Raw) (bson.Raw, error) {
	return dbauth.RestrictListDatabases(state(s).user, body)
}

var _ flexd.AccessEnforcer = (*Plane)(nil)

// endpointsOf lists the served endpoints of project groupID.
func (p *Plane) endpointsOf(groupID string) []*endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*endpoint
	for _, ep := range p.fronts {
		if groupID == "" && ep.groupID != "" || ep.groupID == groupID {
			out = append(out, ep)
		}
	}
	return out
}

// DatabaseUserChanged closes every connection authenticated as the user to
// the project's clusters: it was deleted, or its password, roles or scopes
// changed. Its clients reconnect and authenticate again, with what holds
// now.
func (p *Plane) DatabaseUserChanged(groupID, username string) {
	a := p.cfg.Access
	if a == nil {
		return
	}
	a.revoke(groupID, username)
	n := 0
	for _, ep := range p.endpointsOf(groupID) {
		n += ep.front.Disconnect(func(_ net.Addr, user string) bool { return user == username })
	}
	if n > 0 {
		a.log.Info("closed the connections of a changed database user", "group_id", groupID, "user", username, "connections", n)
	}
}

// AccessListChanged closes the connections to the project's clusters from
// addresses its IP access list no longer holds.
func (p *Plane) AccessListChanged(groupID string) {
	if p.cfg.Access == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.recheck(ctx, p.endpointsOf(groupID), false); err != nil {
		p.cfg.Access.log.Warn("rechecking connections after an access list change", "group_id", groupID, "err", err)
	}
}

// Recheck checks every open connection again against what holds now on
// flexd's clock: an access list entry or a database user whose
// deleteAfterDate has come, or a user gone or no longer scoped to the
// cluster, closes its connections. flexd serve runs it periodically; the
// API's changes need no wait (DatabaseUserChanged, AccessListChanged).
func (p *Plane) Recheck(ctx context.Context) error {
	if p.cfg.Access == nil {
		return nil
	}
	return p.recheck(ctx, p.endpointsOf(""), true)
}

// recheck closes the connections of eps that the access list (and, with
// users, the database users) no longer let in. What cannot be read is
// left as it is, and said: the connection was let in, and the next
// recheck tries again.
func (p *Plane) recheck(ctx context.Context, eps []*endpoint, users bool) error {
	a := p.cfg.Access
	now := a.clock.Now()
	lists := map[string][]flexd.AccessListEntry{}
	type userAt struct{ groupID, cluster, name string }
	verdicts := map[userAt]bool{}
	var errs []error
	for _, ep := range eps {
		entries, ok := lists[ep.groupID]
		if !ok {
			var err error
			if entries, err = a.entries(ctx, ep.groupID, now); err != nil {
				errs = append(errs, err)
				continue
			}
			lists[ep.groupID] = entries
		}
		keep := map[string]bool{}
		if users {
			for _, c := range ep.front.Connections() {
				k := userAt{ep.groupID, ep.name, c.User}
				if _, seen := verdicts[k]; seen || c.User == "" {
					continue
				}
				u, err := a.store.GetDatabaseUser(ctx, ep.groupID, flexd.AdminDatabase, c.User)
				switch {
				case errors.Is(err, flexd.ErrNotFound):
					verdicts[k] = false
				case err != nil:
					errs = append(errs, err)
					verdicts[k] = true
				default:
					verdicts[k] = !u.Expired(now) && u.Reaches(ep.name)
				}
			}
			for k, ok := range verdicts {
				if k.groupID == ep.groupID && k.cluster == ep.name {
					keep[k.name] = ok
				}
			}
		}
		n := ep.front.Disconnect(func(remote net.Addr, user string) bool {
			if !dbauth.Allows(entries, remoteAddr(remote), now) {
				return true
			}
			ok, known := keep[user]
			return users && user != "" && known && !ok
		})
		if n > 0 {
			a.log.Info("closed connections that the project's access list or database users no longer let in",
				"cluster", ep.name, "group_id", ep.groupID, "connections", n)
		}
	}
	return errors.Join(errs...)
}
