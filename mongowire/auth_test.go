package mongowire

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd/ferret"
)

// speculative logs anyone in who asks, so that what the front does around
// it can be seen.
type speculative struct{ got chan string }

func (a *speculative) Authenticate(ctx context.Context, s *Session, db, cmd string, body bson.Raw) (bson.Raw, error) {
	a.got <- cmd + " on " + db
	s.User = "spec"
	return bson.Marshal(bson.D{{Key: "conversationId", Value: int32(1)}, {Key: "done", Value: true},
		{Key: "payload", Value: bson.Binary{Data: []byte("v=sig")}}, {Key: "ok", Value: 1.0}})
}

func (a *speculative) Authorize(s *Session, db, cmd string, body bson.Raw) error {
	if s.User == "" {
		return errUnauthenticated
	}
	return nil
}

func guardedFront(t *testing.T, auth Authenticator) *Front {
	t.Helper()
	m, err := ferret.New(ferret.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b, _ := m.Backend("guarded")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := Serve(ln, b, Options{Name: "guarded", Auth: auth, Mechanisms: []string{"SCRAM-SHA-1", "SCRAM-SHA-256"}})
	t.Cleanup(func() { f.Close() })
	return f
}

func dialFront(t *testing.T, f *Front) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", f.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn)
}

// TestHelloAuthenticationFields: with an Authenticator, a hello's
// saslSupportedMechs and speculativeAuthenticate are the front's to
// answer, in the legacy OP_QUERY handshake and in OP_MSG, while the rest
// of the reply is the backend's. Before, both went to FerretDB, which
// answered PLAIN and ran its own authentication.
func TestHelloAuthenticationFields(t *testing.T) {
	auth := &speculative{got: make(chan string, 4)}
	f := guardedFront(t, auth)
	conn, r := dialFront(t, f)
	spec := bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"},
		{Key: "payload", Value: bson.Binary{Data: []byte("n,,n=a,r=x")}}, {Key: "db", Value: "admin"}}
	conn.Write(legacyQuery(1, "admin.$cmd", bson.D{{Key: "isMaster", Value: 1}, {Key: "saslSupportedMechs", Value: "admin.a"},
		{Key: "speculativeAuthenticate", Value: spec}}))
	doc, op := replyDoc(t, r, 1)
	if op != opReply {
		t.Fatalf("opcode %d", op)
	}
	if got := <-auth.got; got != "saslStart on admin" {
		t.Errorf("the Authenticator got %q", got)
	}
	sa, _ := doc.Lookup("speculativeAuthenticate").DocumentOK()
	mechs, _ := doc.Lookup("saslSupportedMechs").ArrayOK()
	if sa.Lookup("conversationId").Int32() != 1 || sa.Lookup("done").Boolean() != true || sa.Lookup("ok").Type != 0 ||
		mechs.String() != `["SCRAM-SHA-1","SCRAM-SHA-256"]` || doc.Lookup("maxWireVersion").Type == 0 || doc.Lookup("ok").Double() != 1 {
		t.Fatalf("handshake reply %s", doc)
	}
	if last, _ := doc.Elements(); last[len(last)-1].Key() != "ok" {
		t.Errorf("ok is not last: %s", doc)
	}
	find, _ := bson.Marshal(bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}})
	conn.Write(newOpMsg(2, 0, find, nil))
	if doc, _ := replyDoc(t, r, 2); doc.Lookup("ok").Double() != 1 {
		t.Fatalf("find after speculative authentication: %s", doc)
	}

	// OP_MSG: only what was asked for is added.
	hello, _ := bson.Marshal(bson.D{{Key: "hello", Value: 1}, {Key: "saslSupportedMechs", Value: "admin.nobody"}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(3, 0, hello, nil))
	doc, _ = replyDoc(t, r, 3)
	if _, err := doc.LookupErr("speculativeAuthenticate"); err == nil || doc.Lookup("saslSupportedMechs").Type == 0 || doc.Lookup("isWritablePrimary").Boolean() != true {
		t.Fatalf("OP_MSG hello %s", doc)
	}
}

// TestDisconnect: Connections lists who is connected as whom, and
// Disconnect closes exactly the connections it is asked to.
func TestDisconnect(t *testing.T) {
	auth := &speculative{got: make(chan string, 4)}
	f := guardedFront(t, auth)
	alice, ra := dialFront(t, f)
	anon, rn := dialFront(t, f)
	sasl, _ := bson.Marshal(bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"}, {Key: "$db", Value: "admin"}})
	alice.Write(newOpMsg(1, 0, sasl, nil))
	replyDoc(t, ra, 1)
	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	anon.Write(newOpMsg(1, 0, ping, nil))
	replyDoc(t, rn, 1)

	users := map[string]int{}
	for _, c := range f.Connections() {
		users[c.User]++
	}
	if len(users) != 2 || users["spec"] != 1 || users[""] != 1 {
		t.Fatalf("connections by user: %v", users)
	}
	if n := f.Disconnect(func(_ net.Addr, user string) bool { return user == "spec" }); n != 1 {
		t.Fatalf("closed %d", n)
	}
	alice.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang detector
	if _, err := ra.ReadByte(); err == nil {
		t.Error("the disconnected connection is open")
	}
	anon.Write(newOpMsg(2, 0, ping, nil))
	if doc, _ := replyDoc(t, rn, 2); doc.Lookup("ok").Double() != 1 {
		t.Errorf("the other connection: %s", doc)
	}
}
