package server

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// accessServer is a flexd whose clusters are guarded, on a manual clock,
// checking open connections again every 50ms.
type accessServer struct {
	t *testing.T
	s *started
}

func (a *accessServer) must(status int, method, path, body string) map[string]any {
	a.t.Helper()
	code, m := do(a.t, method, a.s.base+path, body)
	if code != status {
		a.t.Fatalf("%s %s = %d %v, want %d", method, path, code, m, status)
	}
	return m
}

// project creates a project and returns its id.
func (a *accessServer) project(name string) string {
	a.t.Helper()
	return a.must(201, "POST", "/api/atlas/v2/groups", `{"name":"`+name+`"}`)["id"].(string)
}

// cluster creates a cluster, waits until it is IDLE and returns its
// connectionStrings.standard.
func (a *accessServer) cluster(g, name string) string {
	a.t.Helper()
	flex := "/api/atlas/v2/groups/" + g + "/flexClusters"
	a.must(201, "POST", flex, `{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := a.must(200, "GET", flex+"/"+name, "")
		if c["stateName"] == "IDLE" {
			return c["connectionStrings"].(map[string]any)["standard"].(string)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("cluster %s not IDLE: %v", name, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *accessServer) user(g, name, password, extra string) {
	a.t.Helper()
	a.must(201, "POST", "/api/atlas/v2/groups/"+g+"/databaseUsers", `{"databaseName":"admin","username":"`+name+
		`","password":"`+password+`","roles":[{"roleName":"readWriteAnyDatabase","databaseName":"admin"}]`+extra+`}`)
}

// login connects with the Go driver as user and runs a write and a read.
func login(t *testing.T, uri, user, password, mechanism string) error {
	t.Helper()
	c := driverClient(t, uri, user, password, mechanism)
	ctx := context.Background()
	coll := c.Database("app").Collection("people")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "by", Value: user}}); err != nil {
		return err
	}
	return coll.FindOne(ctx, bson.D{{Key: "by", Value: user}}).Err()
}

func driverClient(t *testing.T, uri, user, password, mechanism string) *mongo.Client {
	t.Helper()
	q := "?authSource=admin&serverSelectionTimeoutMS=3000&maxPoolSize=1"
	if mechanism != "" {
		q += "&authMechanism=" + mechanism
	}
	if user != "" {
		uri = strings.Replace(uri, "mongodb://", "mongodb://"+url.UserPassword(user, password).String()+"@", 1)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri + q).SetRetryWrites(false).SetTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c.Disconnect(ctx)
	})
	return c
}

// authFailure is what a driver reports of a refused login from MongoDB's
// error on: the part every reason must share.
func authFailure(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("logged in")
	}
	i := strings.Index(err.Error(), "(AuthenticationFailed)")
	if i < 0 {
		t.Fatalf("not error 18 AuthenticationFailed: %v", err)
	}
	return err.Error()[i:]
}

// TestClusterAccess runs the database access of Atlas against real
// clusters through the public API: SCRAM logins as each kind of user, the
// failures that must all look alike, the handshake-only rule, project and
// scope isolation, the access list before the first byte, changes that
// close open connections, SCRAM by hand, and no password anywhere on disk
// or in the logs afterwards. Before the endpoints were guarded, every
// connection read and wrote everything: each refusal here failed.
func TestClusterAccess(t *testing.T) {
	dir := t.TempDir()
	a := &accessServer{t: t, s: start(t, dir, map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_CLUSTER_PORTS": testClusterPorts(), "FLEXD_ACCESS_RECHECK_PERIOD": "50ms", "FLEXD_LOG_LEVEL": "debug"})}
	const (
		alicePW   = "alice-pw-1x"
		scopedPW  = "scoped-pw-2x"
		tempPW    = "temp-pw-3x"
		victimPW  = "victim-pw-4x"
		rotatedPW = "rotated-pw-5x"
		newPW     = "rotated-pw-new-6x"
		bobPW     = "bob-pw-7x"
		carolPW   = "carol-pw-8x"
		wrongPW   = "wrong-pw-9x"
	)
	passwords := []string{alicePW, scopedPW, tempPW, victimPW, rotatedPW, newPW, bobPW, carolPW, wrongPW}

	ga := a.project("access-a")
	// A new project starts with the loopback range, an entry like any.
	list := a.must(200, "GET", "/api/atlas/v2/groups/"+ga+"/accessList", "")
	if rs := list["results"].([]any); len(rs) != 1 || rs[0].(map[string]any)["cidrBlock"] != "127.0.0.0/8" ||
		!strings.Contains(rs[0].(map[string]any)["comment"].(string), "loopback") {
		t.Fatalf("a new project's access list: %v", list)
	}
	a1, a2 := a.cluster(ga, "a1"), a.cluster(ga, "a2")
	a.user(ga, "alice", alicePW, "")
	a.user(ga, "scoped", scopedPW, `,"scopes":[{"name":"a2","type":"CLUSTER"}]`)
	a.user(ga, "temp", tempPW, `,"deleteAfterDate":"`+a.clockNow().Add(2*time.Hour).UTC().Format(time.RFC3339)+`"`)
	a.user(ga, "victim", victimPW, "")
	a.user(ga, "rotated", rotatedPW, "")
	gb := a.project("access-b")
	b1 := a.cluster(gb, "b1")
	a.user(gb, "bob", bobPW, "")

	t.Run("logins", func(t *testing.T) {
		for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", ""} { // "": negotiated, speculative
			if err := login(t, a1, "alice", alicePW, mech); err != nil {
				t.Errorf("alice with %q: %v", mech, err)
			}
		}
		if err := login(t, a2, "scoped", scopedPW, ""); err != nil {
			t.Errorf("scoped user on its cluster: %v", err)
		}
		if err := login(t, b1, "bob", bobPW, ""); err != nil {
			t.Errorf("bob in his project: %v", err)
		}
	})

	t.Run("failures look alike", func(t *testing.T) {
		var first string
		for _, tc := range []struct{ name, uri, user, password string }{
			{"wrong password", a1, "alice", wrongPW},
			{"unknown user", a1, "mallory", alicePW},
			{"scoped to another cluster", a1, "scoped", scopedPW},
			{"user of another project", b1, "alice", alicePW},
			{"user of another project, the other way", a1, "bob", bobPW},
		} {
			for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1"} {
				got := authFailure(t, login(t, tc.uri, tc.user, tc.password, mech))
				if first == "" {
					first = got
				}
				if got != first {
					t.Errorf("%s (%s): %q, unlike %q", tc.name, mech, got, first)
				}
			}
		}
		if !strings.Contains(first, "Authentication failed.") {
			t.Errorf("message %q", first)
		}
	})

	t.Run("unauthenticated", func(t *testing.T) {
		c := driverClient(t, a1, "", "", "")
		err := c.Database("app").RunCommand(context.Background(), bson.D{{Key: "find", Value: "people"}}).Err()
		var ce mongo.CommandError
		if !errors.As(err, &ce) || ce.Code != 13 || ce.Name != "Unauthorized" || ce.Message != "Command find requires authentication" {
			t.Fatalf("find without credentials: %v", err)
		}
		w := dialWire(t, a1)
		for _, cmd := range []string{"hello", "isMaster", "buildInfo", "ping", "endSessions"} {
			doc := bson.D{{Key: cmd, Value: 1}}
			if cmd == "endSessions" {
				doc = bson.D{{Key: cmd, Value: bson.A{}}}
			}
			// Let through: FerretDB answers (it has no endSessions).
			if r := w.run(append(doc, bson.E{Key: "$db", Value: "admin"})); !ok(r) && (cmd != "endSessions" || code(r) == 13) {
				t.Errorf("%s before authentication: %s", cmd, r)
			}
		}
		for _, cmd := range []string{"listDatabases", "insert", "getMore", "killCursors", "serverStatus", "connectionStatus", "dropDatabase"} {
			r := w.run(bson.D{{Key: cmd, Value: 1}, {Key: "$db", Value: "app"}})
			if code(r) != 13 || r.Lookup("errmsg").StringValue() != "Command "+cmd+" requires authentication" {
				t.Errorf("%s before authentication: %s", cmd, r)
			}
		}
		// saslSupportedMechs names both mechanisms, for any name: it tells
		// no one which users exist.
		for _, u := range []string{"admin.alice", "admin.nobody"} {
			r := w.run(bson.D{{Key: "hello", Value: 1}, {Key: "saslSupportedMechs", Value: u}, {Key: "$db", Value: "admin"}})
			if m, _ := r.Lookup("saslSupportedMechs").ArrayOK(); !ok(r) || m.String() != `["SCRAM-SHA-1","SCRAM-SHA-256"]` {
				t.Errorf("hello for %s: %s", u, r)
			}
		}
	})

	t.Run("SCRAM by hand", func(t *testing.T) {
		w := dialWire(t, a1)
		if r := w.run(bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "PLAIN"},
			{Key: "payload", Value: bson.Binary{Data: []byte("\x00alice\x00" + alicePW)}}, {Key: "$db", Value: "admin"}}); code(r) != 334 ||
			r.Lookup("codeName").StringValue() != "MechanismUnavailable" {
			t.Errorf("PLAIN: %s", r)
		}
		if r := w.run(bson.D{{Key: "authenticate", Value: 1}, {Key: "mechanism", Value: "MONGODB-X509"}, {Key: "$db", Value: "$external"}}); code(r) != 334 {
			t.Errorf("X.509: %s", r)
		}
		if r := w.run(bson.D{{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: 1},
			{Key: "payload", Value: bson.Binary{Data: []byte("c=biws")}}, {Key: "$db", Value: "admin"}}); code(r) != 17 {
			t.Errorf("saslContinue without saslStart: %s", r)
		}
		// A wrong proof.
		if r := w.scram("SCRAM-SHA-256", "alice", alicePW, true, func(final string) string {
			return strings.Replace(final, "p=", "p=AAAA", 1)
		}); code(r) != 18 || r.Lookup("errmsg").StringValue() != "Authentication failed." {
			t.Errorf("wrong proof: %s", r)
		}
		// A conversation replayed on another connection: the server's
		// nonce differs, so the recorded proof is worth nothing.
		var recorded []string
		if r := w.scram("SCRAM-SHA-256", "alice", alicePW, true, func(final string) string {
			recorded = append(recorded, final)
			return final
		}); !ok(r) || r.Lookup("done").Boolean() != true {
			t.Fatalf("alice by hand: %s", r)
		}
		if r := w.run(bson.D{{Key: "find", Value: "people"}, {Key: "$db", Value: "app"}}); !ok(r) {
			t.Errorf("find after authentication: %s", r)
		}
		x := dialWire(t, a1)
		if r := x.scram("SCRAM-SHA-256", "alice", alicePW, true, func(string) string { return recorded[0] }); code(r) != 18 {
			t.Errorf("replayed proof: %s", r)
		}
		if r := x.run(bson.D{{Key: "find", Value: "people"}, {Key: "$db", Value: "app"}}); code(r) != 13 {
			t.Errorf("find after a replay: %s", r)
		}
		// Without skipEmptyExchange: done only after the empty round.
		if r := x.scram("SCRAM-SHA-1", "alice", alicePW, false, nil); !ok(r) || r.Lookup("done").Boolean() != true {
			t.Errorf("SCRAM-SHA-1 with the empty exchange: %s", r)
		}
		// logout ends the session.
		if r := x.run(bson.D{{Key: "logout", Value: 1}, {Key: "$db", Value: "admin"}}); !ok(r) {
			t.Errorf("logout: %s", r)
		}
		if r := x.run(bson.D{{Key: "find", Value: "people"}, {Key: "$db", Value: "app"}}); code(r) != 13 {
			t.Errorf("find after logout: %s", r)
		}
	})

	t.Run("a deleted user's connections close", func(t *testing.T) {
		w := dialWire(t, a1)
		if r := w.scram("SCRAM-SHA-256", "victim", victimPW, true, nil); !ok(r) {
			t.Fatalf("victim: %s", r)
		}
		c := driverClient(t, a1, "victim", victimPW, "")
		if err := c.Database("app").RunCommand(context.Background(), bson.D{{Key: "count", Value: "people"}}).Err(); err != nil {
			t.Fatal(err)
		}
		a.must(204, "DELETE", "/api/atlas/v2/groups/"+ga+"/databaseUsers/admin/victim", "")
		w.awaitClosed()
		if err := c.Database("app").RunCommand(context.Background(), bson.D{{Key: "count", Value: "people"}}).Err(); err == nil {
			t.Error("the deleted user's driver went on")
		}
		authFailure(t, login(t, a1, "victim", victimPW, ""))
	})

	t.Run("a new password, roles or scopes close the connections", func(t *testing.T) {
		w := dialWire(t, a1)
		if r := w.scram("SCRAM-SHA-256", "rotated", rotatedPW, true, nil); !ok(r) {
			t.Fatalf("rotated: %s", r)
		}
		// A change of description alone leaves the connection be.
		a.must(200, "PATCH", "/api/atlas/v2/groups/"+ga+"/databaseUsers/admin/rotated", `{"description":"still here"}`)
		if r := w.run(bson.D{{Key: "find", Value: "people"}, {Key: "$db", Value: "app"}}); !ok(r) {
			t.Fatalf("after a description change: %s", r)
		}
		a.must(200, "PATCH", "/api/atlas/v2/groups/"+ga+"/databaseUsers/admin/rotated", `{"password":"`+newPW+`"}`)
		w.awaitClosed()
		authFailure(t, login(t, a1, "rotated", rotatedPW, ""))
		if err := login(t, a1, "rotated", newPW, ""); err != nil {
			t.Errorf("the new password: %v", err)
		}
		// So do new roles, and new scopes.
		w = dialWire(t, a1)
		if r := w.scram("SCRAM-SHA-256", "rotated", newPW, true, nil); !ok(r) {
			t.Fatalf("rotated: %s", r)
		}
		a.must(200, "PATCH", "/api/atlas/v2/groups/"+ga+"/databaseUsers/admin/rotated", `{"roles":[{"roleName":"read","databaseName":"app"}]}`)
		w.awaitClosed()
		w = dialWire(t, a1)
		if r := w.scram("SCRAM-SHA-256", "rotated", newPW, true, nil); !ok(r) {
			t.Fatalf("rotated with new roles: %s", r)
		}
		a.must(200, "PATCH", "/api/atlas/v2/groups/"+ga+"/databaseUsers/admin/rotated", `{"scopes":[{"name":"a2","type":"CLUSTER"}]}`)
		w.awaitClosed()
		authFailure(t, login(t, a1, "rotated", newPW, ""))
	})

	t.Run("a temporary user expires on flexd's clock", func(t *testing.T) {
		w := dialWire(t, a1)
		if r := w.scram("SCRAM-SHA-256", "temp", tempPW, true, nil); !ok(r) {
			t.Fatalf("temp before its time: %s", r)
		}
		a.must(200, "POST", "/_flexd/clock:advance", `{"by":"3h"}`)
		w.awaitClosed()
		authFailure(t, login(t, a1, "temp", tempPW, ""))
	})

	t.Run("access list", func(t *testing.T) {
		gc := a.project("access-c")
		c1 := a.cluster(gc, "c1")
		a.user(gc, "carol", carolPW, "")
		w := dialWire(t, c1)
		if r := w.scram("SCRAM-SHA-256", "carol", carolPW, true, nil); !ok(r) {
			t.Fatalf("carol: %s", r)
		}
		entry := "/api/atlas/v2/groups/" + gc + "/accessList/127.0.0.0%2F8"
		a.must(204, "DELETE", entry, "")
		w.awaitClosed()
		// A new connection is closed before the handshake: no answer to
		// hello, and the driver cannot select the server.
		x := dialWire(t, c1)
		if err := x.send(bson.D{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}}); err == nil {
			if r, err := x.recv(); err == nil {
				t.Fatalf("a refused address got an answer: %s", r)
			}
		}
		err := login(t, c1, "carol", carolPW, "")
		if err == nil || !strings.Contains(err.Error(), "server selection") {
			t.Errorf("driver from a refused address: %v", err)
		}
		// Project A's list is its own: a1 still serves.
		if err := login(t, a1, "alice", alicePW, ""); err != nil {
			t.Errorf("another project's cluster: %v", err)
		}
		// Adding an entry back lets the address in again.
		a.must(201, "POST", "/api/atlas/v2/groups/"+gc+"/accessList", `[{"cidrBlock":"127.0.0.1/32"}]`)
		if err := login(t, c1, "carol", carolPW, ""); err != nil {
			t.Errorf("after adding the entry back: %v", err)
		}
		// A temporary entry: its deleteAfterDate closes the connections
		// it let in.
		a.must(204, "DELETE", "/api/atlas/v2/groups/"+gc+"/accessList/127.0.0.1", "")
		a.must(201, "POST", "/api/atlas/v2/groups/"+gc+"/accessList", `[{"cidrBlock":"127.0.0.0/8","deleteAfterDate":"`+
			a.clockNow().Add(time.Hour).Format(time.RFC3339)+`"}]`)
		y := dialWire(t, c1)
		if r := y.scram("SCRAM-SHA-256", "carol", carolPW, true, nil); !ok(r) {
			t.Fatalf("carol through a temporary entry: %s", r)
		}
		a.must(200, "POST", "/_flexd/clock:advance", `{"by":"2h"}`)
		y.awaitClosed()
	})

	// No password the suite used is on disk or in the logs.
	a.s.stop(t)
	logs := a.s.logs.String()
	for _, pw := range passwords {
		if strings.Contains(logs, pw) {
			t.Errorf("password %q in the logs", pw)
		}
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, pw := range passwords {
			if strings.Contains(string(b), pw) {
				t.Errorf("password %q in %s", pw, path)
			}
		}
		return nil
	})
	if err != nil || files < 3 {
		t.Fatalf("scanned %d files: %v", files, err)
	}
	if !strings.Contains(logs, "cluster authentication failed") || !strings.Contains(logs, "IP access list does not hold") {
		t.Errorf("the refusals went unlogged:\n%s", logs)
	}
}

// clockNow is flexd's clock, as /_flexd/clock tells it.
func (a *accessServer) clockNow() time.Time {
	a.t.Helper()
	m := a.must(200, "GET", "/_flexd/clock", "")
	now, err := time.Parse(time.RFC3339, m["now"].(string))
	if err != nil {
		a.t.Fatalf("clock: %v", m)
	}
	return now
}

// wire is a raw connection to a cluster endpoint: OP_MSG by hand.
type wire struct {
	t  *testing.T
	c  net.Conn
	r  *bufio.Reader
	id int32
}

func dialWire(t *testing.T, uri string) *wire {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wire{t: t, c: c, r: bufio.NewReader(c)}
}

func (w *wire) send(doc bson.D) error {
	body, err := bson.Marshal(doc)
	if err != nil {
		return err
	}
	w.id++
	m := binary.LittleEndian.AppendUint32(nil, uint32(21+len(body)))
	m = binary.LittleEndian.AppendUint32(m, uint32(w.id))
	m = binary.LittleEndian.AppendUint32(m, 0)
	m = binary.LittleEndian.AppendUint32(m, 2013)
	m = binary.LittleEndian.AppendUint32(m, 0)
	m = append(append(m, 0), body...)
	_, err = w.c.Write(m)
	return err
}

func (w *wire) recv() (bson.Raw, error) {
	w.c.SetReadDeadline(time.Now().Add(20 * time.Second)) // a hang detector
	var hdr [21]byte
	if _, err := io.ReadFull(w.r, hdr[:]); err != nil {
		return nil, err
	}
	rest := make([]byte, int(binary.LittleEndian.Uint32(hdr[:]))-21)
	if _, err := io.ReadFull(w.r, rest); err != nil {
		return nil, err
	}
	return bson.Raw(rest), nil
}

// run sends a command and returns its reply.
func (w *wire) run(doc bson.D) bson.Raw {
	w.t.Helper()
	if err := w.send(doc); err != nil {
		w.t.Fatal(err)
	}
	r, err := w.recv()
	if err != nil {
		w.t.Fatalf("%v: %v", doc, err)
	}
	return r
}

// awaitClosed waits until flexd closes the connection.
func (w *wire) awaitClosed() {
	w.t.Helper()
	w.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := w.r.ReadByte()
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		w.t.Fatalf("the connection stayed open: %v", err)
	}
}

// scram runs a SCRAM conversation as the drivers do, final (when set)
// rewriting the client-final message; it returns the last reply.
func (w *wire) scram(mechanism, user, password string, skipEmpty bool, final func(string) string) bson.Raw {
	w.t.Helper()
	var c *scram.Client
	var err error
	if mechanism == "SCRAM-SHA-1" {
		h := md5.Sum([]byte(user + ":mongo:" + password))
		c, err = scram.SHA1.NewClientUnprepped(user, hex.EncodeToString(h[:]), "")
	} else {
		c, err = scram.SHA256.NewClient(user, password, "")
	}
	if err != nil {
		w.t.Fatal(err)
	}
	conv := c.NewConversation()
	first, _ := conv.Step("")
	r := w.run(bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: mechanism},
		{Key: "payload", Value: bson.Binary{Data: []byte(first)}}, {Key: "options", Value: bson.D{{Key: "skipEmptyExchange", Value: skipEmpty}}},
		{Key: "$db", Value: "admin"}})
	if !ok(r) {
		return r
	}
	_, serverFirst := r.Lookup("payload").Binary()
	clientFinal, err := conv.Step(string(serverFirst))
	if err != nil {
		w.t.Fatalf("server-first %q: %v", serverFirst, err)
	}
	if final != nil {
		clientFinal = final(clientFinal)
	}
	r = w.run(bson.D{{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: 1},
		{Key: "payload", Value: bson.Binary{Data: []byte(clientFinal)}}, {Key: "$db", Value: "admin"}})
	if !ok(r) {
		return r
	}
	_, serverFinal := r.Lookup("payload").Binary()
	if _, err := conv.Step(string(serverFinal)); err != nil || !conv.Valid() {
		w.t.Fatalf("the server's signature: %v", err)
	}
	done := r.Lookup("done").Boolean()
	if skipEmpty {
		if !done {
			w.t.Fatalf("not done after the proof with skipEmptyExchange: %s", r)
		}
		return r
	}
	if done {
		w.t.Fatalf("done before the empty exchange: %s", r)
	}
	return w.run(bson.D{{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: 1},
		{Key: "payload", Value: bson.Binary{}}, {Key: "$db", Value: "admin"}})
}

func ok(r bson.Raw) bool {
	v, isNum := r.Lookup("ok").AsFloat64OK()
	return isNum && v == 1
}

func code(r bson.Raw) int32 {
	c, _ := r.Lookup("code").AsInt64OK()
	return int32(c)
}

// TestClusterAccessListFlag: what a new project's access list starts with.
func TestClusterAccessListFlag(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "127.0.0.0/8 flexd: loopback of the cluster endpoints"},
		{map[string]string{"FLEXD_CLUSTER_HOST": "::1"}, "::1/128 flexd: loopback of the cluster endpoints"},
		{map[string]string{"FLEXD_CLUSTER_BIND": "::"}, "127.0.0.0/8 flexd: loopback of the cluster endpoints,::1/128 flexd: loopback of the cluster endpoints"},
		{map[string]string{"FLEXD_CLUSTER_BIND": "0.0.0.0"}, "127.0.0.0/8 flexd: loopback of the cluster endpoints"},
		{map[string]string{"FLEXD_CLUSTER_ACCESS_LIST": "none"}, ""},
		{map[string]string{"FLEXD_CLUSTER_ACCESS_LIST": "loopback, 172.16.0.0/12"}, "127.0.0.0/8 flexd: loopback of the cluster endpoints,172.16.0.0/12 "},
		{map[string]string{"FLEXD_CLUSTER_ACCESS_LIST": "10.0.0.1/8"}, "usage"},
		{map[string]string{"FLEXD_CLUSTER_ACCESS_LIST": "everyone"}, "usage"},
		{map[string]string{"FLEXD_ACCESS_RECHECK_PERIOD": "0s"}, "usage"},
	} {
		c, err := parseServeFlags(nil, func(k string) string { return tc.env[k] }, io.Discard)
		got := "usage"
		if err == nil {
			var parts []string
			for _, e := range c.plane.initialAccess {
				parts = append(parts, e.CIDRBlock+" "+e.Comment)
			}
			got = strings.Join(parts, ",")
		} else if !errors.Is(err, errUsage) {
			t.Fatalf("%v: %v", tc.env, err)
		}
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}
