// Package mongowire is flexd's MongoDB wire protocol front: one TCP listener
// per cluster, in front of that cluster's embedded FerretDB. It passes
// OP_MSG (and the OP_QUERY hello handshake drivers open with) through, and
// is where flexd
//
//   - pauses writes for a consistent snapshot (PauseWrites: in-flight write
//     commands finish, new ones wait),
//   - holds every request while a restore swaps the data (Quiesce),
//   - fences a cluster being restored (Fence: writes answered with a MongoDB
//     error, reads go on),
//   - strips the index options FerretDB v1.24 rejects but mongorestore sends
//     ("ns", "v"),
//   - answers commands and BSON types FerretDB cannot serve with a MongoDB
//     error instead of a dropped connection, and refuses what authorization
//     and FerretDB could read differently (a field twice, two bodies) or
//     what is costly to walk (nesting deeper than MongoDB's 200 levels),
//   - reads what each command does from package mongocmd's table, the one
//     authorization reads too: which commands are writes, which run before
//     authentication,
//   - checks who the client is and what it may do (Authenticator: SCRAM
//     against the project's database users, package dataplane wires it) and
//     where it comes from (Allow: the project's IP access list), and closes
//     the connections a change of either no longer lets in (Disconnect).
package mongowire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd/mongocmd"
)

// Backend opens connections to the server behind the front; ferret.Backend
// is one.
type Backend interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Session is one client connection, as the Authenticator sees it.
type Session struct {
	RemoteAddr net.Addr
	// User is set by the Authenticator once the client has authenticated.
	User string
	// State is the Authenticator's own, e.g. a SCRAM conversation between
	// saslStart and saslContinue.
	State any
}

// CommandError is a MongoDB command error an Authenticator returns to be
// sent as is (e.g. 18 AuthenticationFailed); any other error is sent as
// 13 Unauthorized with its text.
type CommandError struct {
	Code     int32
	CodeName string
	Message  string
}

func (e *CommandError) Error() string { return e.CodeName + ": " + e.Message }

// Authenticator checks database users (SCRAM). Without one, authentication
// commands go to FerretDB, which accepts any user with PLAIN, and every
// command is allowed.
type Authenticator interface {
	// Authenticate answers saslStart, saslContinue, authenticate and logout,
	// and a hello's speculativeAuthenticate (cmd "saslStart", body the
	// speculativeAuthenticate document). The front publishes s.User once it
	// returns, for Disconnect.
	Authenticate(ctx context.Context, s *Session, db, cmd string, body bson.Raw) (reply bson.Raw, err error)
	// Authorize is asked before any other command, with the command's
	// document (its first value names the collection of most commands); an
	// error refuses it (code 13, Unauthorized) with the error's text.
	Authorize(s *Session, db, cmd string, body bson.Raw) error
}

// Restricter is an Authenticator that narrows a command it allowed: the
// listDatabases of a user who may see only some databases (MongoDB's
// authorizedDatabases) is rewritten to list only those.
type Restricter interface {
	Restrict(s *Session, db, cmd string, body bson.Raw) (bson.Raw, error)
}

// Options configure a Front.
type Options struct {
	// Name is the cluster name, used in error messages and logs.
	Name string
	Auth Authenticator
	// Allow, if set, is asked for every new connection (the project's IP
	// access list), on the connection's own goroutine once the front counts
	// it (so a Disconnect that runs meanwhile sees it too); a refused
	// connection is closed before any byte is read.
	Allow func(remote net.Addr) bool
	// Mechanisms are the SASL mechanisms a hello names in
	// saslSupportedMechs when Auth is set (none: the field is left out).
	Mechanisms []string
	Log        *slog.Logger
}

// MongoDB error codes flexd answers with.
const (
	codeUnauthorized     = 13
	codeIllegalOperation = 20
	codeCommandNotFound  = 59
	codeNotImplemented   = 238
	codeDuplicateField   = 40413
	codeOverflow         = 15
)

// Front serves one cluster's listener.
type Front struct {
	ln      net.Listener
	backend Backend
	opts    Options
	log     *slog.Logger
	gate    *gate
	fence   atomic.Pointer[string]
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	conns  map[*clientConn]struct{}
	closed bool
	wg     sync.WaitGroup
	reqID  atomic.Int32
}

// Serve starts serving ln, which the Front now owns, with backend behind it.
func Serve(ln net.Listener, backend Backend, opts Options) *Front {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Front{ln: ln, backend: backend, opts: opts, log: log, gate: newGate(), conns: map[*clientConn]struct{}{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.wg.Add(1)
	go f.acceptLoop()
	return f
}

// Addr is the listening address.
func (f *Front) Addr() net.Addr { return f.ln.Addr() }

// Port is the listening TCP port.
func (f *Front) Port() int {
	if a, ok := f.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// PauseWrites waits until no write command is in flight and holds new ones
// until resume is called; reads go on. A write acknowledged before
// PauseWrites returns is on the backend; none runs until resume.
func (f *Front) PauseWrites(ctx context.Context) (resume func(), err error) {
	return f.gate.pause(ctx, false)
}

// Quiesce is PauseWrites for every request: use it around swapping the
// backend's data. After resume, client connections reconnect to the
// backend transparently (open cursors are lost).
func (f *Front) Quiesce(ctx context.Context) (resume func(), err error) {
	return f.gate.pause(ctx, true)
}

// Held is the number of requests a pause is holding right now.
func (f *Front) Held() int {
	f.gate.mu.Lock()
	defer f.gate.mu.Unlock()
	return f.gate.waiting
}

// Fence makes the front refuse writes with a MongoDB error naming reason
// until Unfence; reads go on.
func (f *Front) Fence(reason string) { f.fence.Store(&reason) }

// Unfence lifts Fence.
func (f *Front) Unfence() { f.fence.Store(nil) }

// Close stops listening and closes every client connection.
func (f *Front) Close() error {
	f.cancel()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.abort()
	}
	f.mu.Unlock()
	err := f.ln.Close()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (f *Front) acceptLoop() {
	defer f.wg.Done()
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			f.log.Warn("mongowire: accept", "cluster", f.opts.Name, "err", err)
			continue
		}
		c := &clientConn{f: f, nc: nc, s: &Session{RemoteAddr: nc.RemoteAddr()}}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			nc.Close()
			return
		}
		f.conns[c] = struct{}{}
		f.wg.Add(1)
		f.mu.Unlock()
		go func() {
			defer f.wg.Done()
			c.serve()
			f.mu.Lock()
			delete(f.conns, c)
			f.mu.Unlock()
		}()
	}
}

// clientConn is one client connection and its connection to the backend.
type clientConn struct {
	f  *Front
	nc net.Conn
	s  *Session

	bcMu  sync.Mutex // guards bc for Close, which runs on another goroutine
	bc    net.Conn
	br    *bufio.Reader
	epoch uint64
	rbuf  []byte // reused for replies

	// user is s.User as last published, for Disconnect on another
	// goroutine.
	user atomic.Pointer[string]
}

// Disconnect closes every client connection for which match, given the
// connection's remote address and authenticated user ("" before
// authentication), reports true, and returns how many it closed. A request
// in flight on such a connection is cut short: its client sees a network
// error. match runs with the front's lock held.
func (f *Front) Disconnect(match func(remote net.Addr, user string) bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for c := range f.conns {
		user := ""
		if u := c.user.Load(); u != nil {
			user = *u
		}
		if match(c.s.RemoteAddr, user) {
			c.abort()
			n++
		}
	}
	return n
}

// Connection is a client connection as Connections lists it.
type Connection struct {
	Remote net.Addr
	// User is the authenticated user, "" before authentication.
	User string
}

// Connections lists the open client connections.
func (f *Front) Connections() []Connection {
	var out []Connection
	f.Disconnect(func(remote net.Addr, user string) bool {
		out = append(out, Connection{Remote: remote, User: user})
		return false
	})
	return out
}

// publishUser makes s.User visible to Disconnect.
func (c *clientConn) publishUser() {
	u := c.s.User
	c.user.Store(&u)
}

// abort closes both sides, ending a request waiting on the backend.
func (c *clientConn) abort() {
	c.nc.Close()
	c.bcMu.Lock()
	if c.bc != nil {
		c.bc.Close()
	}
	c.bcMu.Unlock()
}

func (c *clientConn) serve() {
	defer c.nc.Close()
	defer c.closeBackend()
	ctx := c.f.ctx // Close ends a request waiting in the gate
	if c.f.opts.Allow != nil && !c.f.opts.Allow(c.s.RemoteAddr) {
		return
	}
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	for {
		req, err := readMessage(r, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.f.log.Debug("mongowire: read", "cluster", c.f.opts.Name, "err", err)
			}
			return
		}
		if cap(req) <= 1<<20 {
			buf = req[:0]
		}
		if err := c.handle(ctx, req); err != nil {
			c.f.log.Debug("mongowire: request", "cluster", c.f.opts.Name, "err", err)
			return
		}
	}
}

// handle answers one request: locally with an error, or by passing it (maybe
// rewritten) to the backend and its reply back.
func (c *clientConn) handle(ctx context.Context, req message) error {
	var cmd, db string
	var body bson.Raw
	var seqs []section1
	switch req.opCode() {
	case opMsg:
		var err error
		body, seqs, err = req.opMsgBody()
		if err != nil {
			return c.replyError(req, codeIllegalOperation, "flexd: malformed OP_MSG")
		}
		cmd = commandName(body)
		if k := duplicateKey(body); k != "" {
			return c.replyCommandError(req, codeDuplicateField, "Location40413", fmt.Sprintf("BSON field '%s.%s' is a duplicate field", cmd, k))
		}
		db, _ = body.Lookup("$db").StringValueOK()
	case opQuery:
		// Drivers open with a legacy OP_QUERY hello; anything else over
		// OP_QUERY went away with MongoDB 5.1.
		_, q, err := req.opQueryDoc()
		if err != nil {
			return c.replyError(req, codeIllegalOperation, "flexd: malformed OP_QUERY")
		}
		cmd = commandName(q)
		if !isHello(cmd) {
			return c.replyError(req, codeNotImplemented, "flexd: OP_QUERY is supported only for the hello handshake; use OP_MSG")
		}
		if c.f.opts.Auth != nil {
			return c.hello(ctx, req, q)
		}
		return c.forward(ctx, req, false, nil)
	default:
		return c.replyError(req, codeNotImplemented, fmt.Sprintf("flexd: opcode %d is not supported", req.opCode()))
	}

	class := mongocmd.Classify(db, cmd, body)
	if reason := unsupportedReason(&class, body, seqs); reason == tooDeep {
		return c.replyCommandError(req, codeOverflow, "Overflow", reason)
	} else if reason != "" {
		return c.replyError(req, codeNotImplemented, fmt.Sprintf("flexd (FerretDB v1.24 backend): %s (command %q)", reason, cmd))
	}
	if a := c.f.opts.Auth; a != nil {
		if class.Class == mongocmd.Auth {
			reply, err := a.Authenticate(ctx, c.s, db, cmd, body)
			c.publishUser()
			if err != nil {
				return c.replyAuthError(req, err)
			}
			return c.write(newOpMsg(c.f.reqID.Add(1), req.requestID(), reply, nil))
		}
		if isHello(cmd) {
			return c.hello(ctx, req, body)
		}
		if class.Class != mongocmd.Handshake {
			if err := a.Authorize(c.s, db, cmd, body); err != nil {
				return c.replyAuthError(req, err)
			}
			if r, ok := a.(Restricter); ok && class.FilterDatabases {
				nb, err := r.Restrict(c.s, db, cmd, body)
				if err != nil {
					return c.replyAuthError(req, err)
				}
				if nb != nil {
					req, body = newOpMsg(req.requestID(), 0, nb, seqs), nb
				}
			}
		}
	}
	write := class.Writes
	if write {
		if reason := c.f.fence.Load(); reason != nil {
			return c.replyError(req, codeIllegalOperation, fmt.Sprintf("cluster %s refuses writes: %s; reads go on", c.f.opts.Name, *reason))
		}
	}
	if cmd == "createIndexes" {
		if nb := stripIndexOptions(body); nb != nil {
			req = newOpMsg(req.requestID(), 0, nb, seqs)
		}
	}
	return c.forward(ctx, req, write, nil)
}

// forward sends req to the backend inside the gate and relays the replies,
// each through rewrite when it is set.
func (c *clientConn) forward(ctx context.Context, req message, write bool, rewrite func(message) (message, error)) error {
	epoch, err := c.f.gate.enter(ctx, write)
	if err != nil {
		return err
	}
	defer c.f.gate.leave(write)
	// A fence set while this write waited in the gate still applies.
	if write {
		if reason := c.f.fence.Load(); reason != nil {
			return c.replyError(req, codeIllegalOperation, fmt.Sprintf("cluster %s refuses writes: %s; reads go on", c.f.opts.Name, *reason))
		}
	}
	if c.bc != nil && c.epoch != epoch {
		c.closeBackend()
	}
	if c.bc == nil {
		bc, err := c.f.backend.DialContext(ctx, "unix", "")
		if err != nil {
			c.f.log.Error("mongowire: backend", "cluster", c.f.opts.Name, "err", err)
			return c.replyError(req, codeIllegalOperation, "flexd: the cluster's database is unavailable")
		}
		c.bcMu.Lock()
		c.bc, c.br, c.epoch = bc, bufio.NewReaderSize(bc, 64<<10), epoch
		c.bcMu.Unlock()
	}
	if _, err := c.bc.Write(req); err != nil {
		c.closeBackend()
		return c.replyError(req, codeIllegalOperation, "flexd: the cluster's database closed the connection")
	}
	if req.flags()&flagMoreToCome != 0 {
		return nil // the client expects no reply (w:0)
	}
	for {
		reply, err := readMessage(c.br, c.rbuf)
		if err != nil {
			c.closeBackend()
			return c.replyError(req, codeIllegalOperation, "flexd: the cluster's database closed the connection")
		}
		if cap(reply) <= 1<<20 {
			c.rbuf = reply[:0] // keep ordinary buffers, not huge batches
		}
		if rewrite != nil {
			if reply, err = rewrite(reply); err != nil {
				return err
			}
		}
		if _, err := c.nc.Write(reply); err != nil {
			return err
		}
		if reply.flags()&flagMoreToCome == 0 {
			return nil
		}
	}
}

func (c *clientConn) closeBackend() {
	c.bcMu.Lock()
	defer c.bcMu.Unlock()
	if c.bc != nil {
		c.bc.Close()
		c.bc, c.br = nil, nil
	}
}

var codeNames = map[int32]string{
	codeUnauthorized:     "Unauthorized",
	codeIllegalOperation: "IllegalOperation",
	codeCommandNotFound:  "CommandNotFound",
	codeNotImplemented:   "NotImplemented",
}

func (c *clientConn) replyAuthError(req message, err error) error {
	var ce *CommandError
	if errors.As(err, &ce) {
		return c.replyCommandError(req, ce.Code, ce.CodeName, ce.Message)
	}
	return c.replyError(req, codeUnauthorized, err.Error())
}

// replyError answers req with a MongoDB command error, in the reply format
// the request's opcode expects.
func (c *clientConn) replyError(req message, code int32, msg string) error {
	return c.replyCommandError(req, code, codeNames[code], msg)
}

func (c *clientConn) replyCommandError(req message, code int32, codeName, msg string) error {
	doc, err := bson.Marshal(bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: msg},
		{Key: "code", Value: code},
		{Key: "codeName", Value: codeName},
	})
	if err != nil {
		return err
	}
	if req.opCode() == opMsg && req.flags()&flagMoreToCome != 0 {
		return nil
	}
	if req.opCode() == opQuery {
		return c.write(newOpReply(c.f.reqID.Add(1), req.requestID(), doc))
	}
	return c.write(newOpMsg(c.f.reqID.Add(1), req.requestID(), doc, nil))
}

func (c *clientConn) write(m message) error {
	_, err := c.nc.Write(m)
	return err
}
