package mongowire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/ferret"
)

func rawFront(t *testing.T) (*Front, net.Conn, *bufio.Reader) {
	t.Helper()
	m, err := ferret.New(ferret.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	b, _ := m.Backend("raw")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := Serve(ln, b, Options{Name: "raw"})
	t.Cleanup(func() { f.Close() })
	conn, err := net.Dial("tcp", f.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return f, conn, bufio.NewReader(conn)
}

func legacyQuery(reqID int32, coll string, q bson.D) []byte {
	doc, _ := bson.Marshal(q)
	b := binary.LittleEndian.AppendUint32(nil, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(reqID))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, opQuery)
	b = binary.LittleEndian.AppendUint32(b, 0) // flags
	b = append(b, coll...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)          // skip
	b = binary.LittleEndian.AppendUint32(b, 0xffffffff) // return -1
	b = append(b, doc...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// replyDoc reads one reply and returns its document and opcode.
func replyDoc(t *testing.T, r *bufio.Reader, wantTo int32) (bson.Raw, int32) {
	t.Helper()
	m, err := readMessage(r, nil)
	if err != nil {
		t.Fatalf("reading the reply: %v (connection dropped?)", err)
	}
	if got := int32(binary.LittleEndian.Uint32(m[8:])); got != wantTo {
		t.Fatalf("responseTo = %d, want %d", got, wantTo)
	}
	switch m.opCode() {
	case opReply:
		return bson.Raw(m[36:]), opReply
	case opMsg:
		body, _, err := m.opMsgBody()
		if err != nil {
			t.Fatal(err)
		}
		return body, opMsg
	}
	t.Fatalf("reply opcode %d", m.opCode())
	return nil, 0
}

func TestLegacyHandshakeAndErrorsOnTheWire(t *testing.T) {
	_, conn, r := rawFront(t)
	conn.Write(legacyQuery(1, "admin.$cmd", bson.D{{Key: "isMaster", Value: 1}}))
	doc, op := replyDoc(t, r, 1)
	if op != opReply || doc.Lookup("ok").Double() != 1 || doc.Lookup("maxWireVersion").Int32() < 6 {
		t.Fatalf("OP_QUERY isMaster answered %d %s", op, doc)
	}

	conn.Write(legacyQuery(2, "app.users", bson.D{{Key: "name", Value: "x"}}))
	doc, op = replyDoc(t, r, 2)
	if op != opReply || doc.Lookup("ok").Double() != 0 || doc.Lookup("code").Int32() != codeNotImplemented {
		t.Fatalf("legacy OP_QUERY find answered %d %s", op, doc)
	}

	legacyInsert := binary.LittleEndian.AppendUint32(nil, 20)
	legacyInsert = binary.LittleEndian.AppendUint32(legacyInsert, 3)
	legacyInsert = binary.LittleEndian.AppendUint32(legacyInsert, 0)
	legacyInsert = binary.LittleEndian.AppendUint32(legacyInsert, 2002) // OP_INSERT
	legacyInsert = binary.LittleEndian.AppendUint32(legacyInsert, 0)
	conn.Write(legacyInsert)
	doc, op = replyDoc(t, r, 3)
	if op != opMsg || doc.Lookup("code").Int32() != codeNotImplemented {
		t.Fatalf("OP_INSERT answered %d %s", op, doc)
	}

	// The connection still serves OP_MSG.
	body, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(4, 0, body, nil))
	doc, _ = replyDoc(t, r, 4)
	if doc.Lookup("ok").Double() != 1 {
		t.Fatalf("ping after errors = %s", doc)
	}
}

func TestPlainAuthWithAnyUserIsAccepted(t *testing.T) {
	f, _, _ := rawFront(t)
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://alice:secret@" + f.Addr().String() + "/?authMechanism=PLAIN&directConnection=true"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if _, err := c.Database("app").Collection("c").InsertOne(context.Background(), bson.D{{Key: "a", Value: 1}}); err != nil {
		t.Fatalf("insert with PLAIN credentials: %v", err)
	}
}

type denyAll struct{ authenticated bool }

func (d *denyAll) Authenticate(ctx context.Context, s *Session, db, cmd string, body bson.Raw) (bson.Raw, error) {
	if m, _ := body.Lookup("mechanism").StringValueOK(); m != "SCRAM-SHA-256" {
		return nil, &CommandError{Code: 18, CodeName: "AuthenticationFailed", Message: "Authentication failed."}
	}
	s.User = "alice"
	d.authenticated = true
	return bson.Marshal(bson.D{{Key: "conversationId", Value: 1}, {Key: "done", Value: true}, {Key: "payload", Value: bson.Binary{}}, {Key: "ok", Value: 1.0}})
}

func (d *denyAll) Authorize(s *Session, db, cmd string, body bson.Raw) error {
	if s.User == "" {
		return errUnauthenticated
	}
	return nil
}

var errUnauthenticated = errors.New("command requires authentication")

func TestAuthenticatorHook(t *testing.T) {
	m, _ := ferret.New(ferret.Config{Dir: t.TempDir()})
	defer m.Close()
	b, _ := m.Backend("auth")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	auth := &denyAll{}
	f := Serve(ln, b, Options{Name: "auth", Auth: auth})
	defer f.Close()
	conn, _ := net.Dial("tcp", f.Addr().String())
	defer conn.Close()
	r := bufio.NewReader(conn)
	find, _ := bson.Marshal(bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}})
	conn.Write(newOpMsg(1, 0, find, nil))
	doc, _ := replyDoc(t, r, 1)
	if doc.Lookup("code").Int32() != codeUnauthorized {
		t.Fatalf("find before authentication = %s, want code 13", doc)
	}
	bad, _ := bson.Marshal(bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-1"}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(9, 0, bad, nil))
	if doc, _ := replyDoc(t, r, 9); doc.Lookup("code").Int32() != 18 || doc.Lookup("codeName").StringValue() != "AuthenticationFailed" {
		t.Fatalf("a CommandError from the Authenticator = %s, want code 18 as given", doc)
	}
	sasl, _ := bson.Marshal(bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(2, 0, sasl, nil))
	if doc, _ := replyDoc(t, r, 2); !auth.authenticated || doc.Lookup("done").Boolean() != true {
		t.Fatalf("saslStart did not reach the Authenticator: %s", doc)
	}
	conn.Write(newOpMsg(3, 0, find, nil))
	if doc, _ := replyDoc(t, r, 3); doc.Lookup("ok").Double() != 1 {
		t.Fatalf("find after authentication = %s", doc)
	}
}

// stuckBackend reads requests and never answers.
type stuckBackend struct{ got chan struct{} }

func (s *stuckBackend) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	a, b := net.Pipe()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := b.Read(buf); err != nil {
				return
			}
			select {
			case s.got <- struct{}{}:
			default:
			}
		}
	}()
	return a, nil
}

func TestCloseEndsARequestTheBackendNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be := &stuckBackend{got: make(chan struct{}, 1)}
	f := Serve(ln, be, Options{Name: "stuck"})
	conn, err := net.Dial("tcp", f.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(1, 0, body, nil))
	<-be.got // the request is at the backend, which will never answer
	closed := make(chan struct{})
	go func() {
		f.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a hang detector, not a speed assertion
		t.Fatal("Front.Close hangs on a request the backend never answers")
	}
}

func TestAllowRefusesConnections(t *testing.T) {
	m, _ := ferret.New(ferret.Config{Dir: t.TempDir()})
	defer m.Close()
	b, _ := m.Backend("acl")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	f := Serve(ln, b, Options{Name: "acl", Allow: func(net.Addr) bool { return false }})
	defer f.Close()
	conn, err := net.Dial("tcp", f.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(1, 0, body, nil))
	if _, err := readMessage(bufio.NewReader(conn), nil); err == nil {
		t.Fatal("a refused connection got an answer")
	}
}

// A command with a field twice is answered by the front (MongoDB's 40413)
// and never reaches FerretDB, which would read another value of it than
// authorization did.
func TestDuplicateFieldIsRefusedOnTheWire(t *testing.T) {
	_, conn, r := rawFront(t)
	dup, _ := bson.Marshal(bson.D{{Key: "find", Value: "c"}, {Key: "$db", Value: "app"}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(1, 0, dup, nil))
	doc, _ := replyDoc(t, r, 1)
	code, _ := doc.Lookup("code").Int32OK()
	msg, _ := doc.Lookup("errmsg").StringValueOK()
	if code != codeDuplicateField || msg != "BSON field 'find.$db' is a duplicate field" {
		t.Fatalf("duplicate $db = %s", doc)
	}
	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(2, 0, ping, nil))
	if doc, _ := replyDoc(t, r, 2); doc.Lookup("ok").Double() != 1 {
		t.Fatalf("ping after the refusal = %s", doc)
	}
}

// A command nested deeper than MongoDB allows is answered 15 Overflow, as
// mongod words it, and the connection stays usable.
func TestTooDeepIsRefusedOnTheWire(t *testing.T) {
	_, conn, r := rawFront(t)
	body := bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.Raw(nested(maxDepth + 5))}}, {Key: "$db", Value: "app"}}
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(newOpMsg(1, 0, raw, nil))
	doc, _ := replyDoc(t, r, 1)
	code, _ := doc.Lookup("code").Int32OK()
	msg, _ := doc.Lookup("errmsg").StringValueOK()
	if code != codeOverflow || msg != "BSONObj exceeds maximum nested object depth: 200" {
		t.Fatalf("too deep = %s", doc)
	}
	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	conn.Write(newOpMsg(2, 0, ping, nil))
	if doc, _ := replyDoc(t, r, 2); doc.Lookup("ok").Double() != 1 {
		t.Fatalf("ping after the refusal = %s", doc)
	}
}
