package dbauth_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dbauth"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestOfficialGoDriver logs in with the official Go driver (v2) through a
// minimal OP_MSG endpoint that does what the wire front will do with
// dbauth: the access-list gate before the first byte, saslStart and
// saslContinue through an Authenticator, and nothing but the handshake
// before authentication.
func TestOfficialGoDriver(t *testing.T) {
	a, _, _ := fixture(t)
	addr := serveWire(t, a, dbauth.Target{GroupID: groupA, Cluster: "flexA", Database: "admin"}, true)
	for _, tc := range []struct {
		name, uri string
		ok        bool
	}{
		{"SCRAM-SHA-256", "mongodb://alice:correct%20horse@" + addr + "/?authMechanism=SCRAM-SHA-256", true},
		{"SCRAM-SHA-1", "mongodb://alice:correct%20horse@" + addr + "/?authMechanism=SCRAM-SHA-1", true},
		{"negotiated", "mongodb://alice:correct%20horse@" + addr + "/?authSource=admin", true},
		{"wrong password", "mongodb://alice:wrong@" + addr + "/?authMechanism=SCRAM-SHA-256", false},
		{"unknown user", "mongodb://mallory:correct%20horse@" + addr + "/", false},
		{"other cluster's user", "mongodb://scoped:correct%20horse@" + addr + "/", false},
		{"no credentials", "mongodb://" + addr + "/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ping(t, tc.uri)
			if tc.ok && err != nil {
				t.Fatalf("ping: %v", err)
			}
			if !tc.ok {
				want := "AuthenticationFailed"
				if !strings.Contains(tc.uri, "@") {
					want = "Unauthorized"
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("ping: %v, want %s", err, want)
				}
			}
		})
	}

	// An address the access list does not hold is closed before the
	// handshake: the driver cannot even select the server.
	closed := serveWire(t, a, dbauth.Target{GroupID: groupB, Cluster: "flexA", Database: "admin"}, false)
	if err := ping(t, "mongodb://bob:correct%20horse@"+closed+"/?serverSelectionTimeoutMS=500"); err == nil {
		t.Fatal("a refused address got in")
	}
}

func ping(t *testing.T, uri string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetDirect(true).
		SetServerAPIOptions(options.ServerAPI(options.ServerAPIVersion1)))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	return c.Database("app").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

// serveWire listens on loopback; allowLoopback says whether the project's
// access list holds 127.0.0.0/8.
func serveWire(t *testing.T, a *dbauth.Authenticator, target dbauth.Target, allowLoopback bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	lists := listStore{}
	if allowLoopback {
		lists[target.GroupID] = []flexd.AccessListEntry{entry("127.0.0.0/8")}
	}
	gate := dbauth.NewGate(lists, nil)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				ap, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
				if !gate.Allowed(context.Background(), target.GroupID, ap.Addr()) {
					return
				}
				serveConn(conn, a, target)
			}()
		}
	}()
	return l.Addr().String()
}

// serveConn answers OP_MSG commands until the client hangs up.
func serveConn(conn net.Conn, a *dbauth.Authenticator, target dbauth.Target) {
	var conv *dbauth.Conversation
	authenticated := false
	for {
		var header [16]byte
		if _, err := io.ReadFull(conn, header[:]); err != nil {
			return
		}
		length := binary.LittleEndian.Uint32(header[0:])
		requestID := binary.LittleEndian.Uint32(header[4:])
		if binary.LittleEndian.Uint32(header[12:]) != 2013 || length < 21 || length > 1<<20 {
			return
		}
		body := make([]byte, length-16)
		if _, err := io.ReadFull(conn, body); err != nil || body[4] != 0 {
			return
		}
		cmd := bson.Raw(body[5:])
		name := cmd.Index(0).Key()
		var reply bson.D
		switch name {
		case "hello", "isMaster", "ismaster":
			reply = bson.D{{Key: "isWritablePrimary", Value: true}, {Key: "helloOk", Value: true},
				{Key: "maxWireVersion", Value: 21}, {Key: "minWireVersion", Value: 0},
				{Key: "maxBsonObjectSize", Value: 16 << 20}, {Key: "maxMessageSizeBytes", Value: 48000000},
				{Key: "maxWriteBatchSize", Value: 100000}, {Key: "logicalSessionTimeoutMinutes", Value: 30},
				{Key: "saslSupportedMechs", Value: bson.A{dbauth.SHA1, dbauth.SHA256}}, {Key: "ok", Value: 1.0}}
		case "saslStart":
			mech, _ := cmd.Lookup("mechanism").StringValueOK()
			_, payload, _ := cmd.Lookup("payload").BinaryOK()
			var out []byte
			var err error
			conv, out, err = a.Start(context.Background(), target, mech, payload)
			reply = saslReply(out, false, err)
		case "saslContinue":
			_, payload, _ := cmd.Lookup("payload").BinaryOK()
			err := errors.New("no conversation")
			var out []byte
			done := false
			if conv != nil {
				out, done, err = conv.Continue(payload)
			}
			authenticated = err == nil && done
			reply = saslReply(out, done, err)
		case "endSessions":
			reply = bson.D{{Key: "ok", Value: 1.0}}
		default:
			if !authenticated {
				reply = bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "command " + name + " requires authentication"},
					{Key: "code", Value: 13}, {Key: "codeName", Value: "Unauthorized"}}
			} else {
				reply = bson.D{{Key: "ok", Value: 1.0}}
			}
		}
		doc, _ := bson.Marshal(reply)
		out := make([]byte, 16, 21+len(doc))
		binary.LittleEndian.PutUint32(out[0:], uint32(21+len(doc)))
		binary.LittleEndian.PutUint32(out[8:], requestID)
		binary.LittleEndian.PutUint32(out[12:], 2013)
		out = append(out, 0, 0, 0, 0, 0)
		out = append(out, doc...)
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

func saslReply(payload []byte, done bool, err error) bson.D {
	var e *dbauth.Error
	if errors.As(err, &e) {
		return bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: e.Message}, {Key: "code", Value: e.Code}, {Key: "codeName", Value: e.CodeName}}
	}
	if err != nil {
		return bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "Authentication failed."}, {Key: "code", Value: 18}, {Key: "codeName", Value: "AuthenticationFailed"}}
	}
	return bson.D{{Key: "conversationId", Value: 1}, {Key: "done", Value: done},
		{Key: "payload", Value: bson.Binary{Data: payload}}, {Key: "ok", Value: 1.0}}
}
