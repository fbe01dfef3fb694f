package dbauth_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dbauth"
	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

// users is an in-memory project of database users.
type users struct {
	mu sync.Mutex
	m  map[string]*flexd.DatabaseUser
	// fail makes every lookup fail as a broken store would.
	fail error
}

func (u *users) GetDatabaseUser(_ context.Context, groupID, db, name string) (*flexd.DatabaseUser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.fail != nil {
		return nil, u.fail
	}
	if v, ok := u.m[groupID+"/"+db+"/"+name]; ok {
		c := *v
		return &c, nil
	}
	return nil, flexd.ErrNotFound
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

const groupA, groupB = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"

func fixture(t testing.TB) (*dbauth.Authenticator, *users, *clock) {
	t.Helper()
	us := &users{m: map[string]*flexd.DatabaseUser{}}
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	add := func(groupID, name, password string, mod func(*flexd.DatabaseUser)) {
		creds, err := dbauth.NewCredentials(name, password)
		if err != nil {
			t.Fatal(err)
		}
		u := &flexd.DatabaseUser{GroupID: groupID, DatabaseName: "admin", Username: name, SCRAM: creds,
			Roles: []flexd.DatabaseUserRole{{RoleName: "readWrite", DatabaseName: "app"}}}
		if mod != nil {
			mod(u)
		}
		us.m[groupID+"/admin/"+name] = u
	}
	add(groupA, "alice", "correct horse", nil)
	add(groupA, "scoped", "correct horse", func(u *flexd.DatabaseUser) {
		u.Scopes = []flexd.UserScope{{Name: "other", Type: flexd.ScopeCluster}}
	})
	add(groupA, "temp", "correct horse", func(u *flexd.DatabaseUser) { u.DeleteAfterDate = clk.now.Add(time.Hour) })
	add(groupB, "bob", "correct horse", nil)
	return dbauth.New(us, clk), us, clk
}

// driverClient is the SCRAM client exactly as the official Go driver
// builds it (x/mongo/driver/auth/scram.go): SCRAM-SHA-1 over the MongoDB
// password digest, SCRAM-SHA-256 over the SASLprepped password, the
// username unprepped, at least 4096 iterations.
func driverClient(t *testing.T, mechanism, username, password string) *scram.ClientConversation {
	t.Helper()
	var c *scram.Client
	var err error
	if mechanism == dbauth.SHA1 {
		c, err = scram.SHA1.NewClientUnprepped(username, mongoPasswordDigest(username, password), "")
	} else {
		var prepped string
		if prepped, err = stringprep.SASLprep.Prepare(password); err == nil {
			c, err = scram.SHA256.NewClientUnprepped(username, prepped, "")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.WithMinIterations(4096).NewConversation()
}

// login runs a whole conversation as a driver with skipEmptyExchange does.
func login(t *testing.T, a *dbauth.Authenticator, target dbauth.Target, mechanism, username, password string) (*dbauth.User, error) {
	t.Helper()
	client := driverClient(t, mechanism, username, password)
	first, err := client.Step("")
	if err != nil {
		t.Fatal(err)
	}
	conv, serverFirst, err := a.Start(context.Background(), target, mechanism, []byte(first))
	if err != nil {
		return nil, err
	}
	final, err := client.Step(string(serverFirst))
	if err != nil {
		t.Fatalf("client rejected server-first: %v", err)
	}
	serverFinal, done, err := conv.Continue([]byte(final))
	if err != nil {
		return nil, err
	}
	if !done {
		t.Fatal("not done after client-final")
	}
	if _, err := client.Step(string(serverFinal)); err != nil || !client.Valid() {
		t.Fatalf("client rejected the server's signature: %v", err)
	}
	// A client without skipEmptyExchange sends one more, empty, payload.
	if reply, done, err := conv.Continue(nil); err != nil || !done || len(reply) != 0 {
		t.Errorf("empty exchange: %q %v %v", reply, done, err)
	}
	return conv.User(), nil
}

func TestSCRAMSuccess(t *testing.T) {
	a, _, _ := fixture(t)
	for _, mech := range []string{dbauth.SHA1, dbauth.SHA256} {
		u, err := login(t, a, dbauth.Target{GroupID: groupA, Cluster: "flexA", Database: "admin"}, mech, "alice", "correct horse")
		if err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		if u == nil || u.Username != "alice" || u.GroupID != groupA || len(u.Roles) != 1 || u.Roles[0].RoleName != "readWrite" {
			t.Errorf("%s: user %+v", mech, u)
		}
	}
}

// TestSCRAMFailuresLookAlike: every reason to refuse is the same error 18,
// given at the same step (after the client's proof).
func TestSCRAMFailuresLookAlike(t *testing.T) {
	a, _, clk := fixture(t)
	clk.now = clk.now.Add(2 * time.Hour) // temp has expired
	at := func(g, cluster string) dbauth.Target {
		return dbauth.Target{GroupID: g, Cluster: cluster, Database: "admin"}
	}
	for _, tc := range []struct {
		name, user, password string
		target               dbauth.Target
	}{
		{"wrong password", "alice", "wrong horse", at(groupA, "flexA")},
		{"unknown user", "mallory", "correct horse", at(groupA, "flexA")},
		{"scoped to another cluster", "scoped", "correct horse", at(groupA, "flexA")},
		{"expired", "temp", "correct horse", at(groupA, "flexA")},
		{"user of another project", "bob", "correct horse", at(groupA, "flexA")},
		{"other authentication database", "alice", "correct horse", dbauth.Target{GroupID: groupA, Cluster: "flexA", Database: "app"}},
	} {
		for _, mech := range []string{dbauth.SHA1, dbauth.SHA256} {
			t.Run(tc.name+"/"+mech, func(t *testing.T) {
				client := driverClient(t, mech, tc.user, tc.password)
				first, _ := client.Step("")
				conv, serverFirst, err := a.Start(context.Background(), tc.target, mech, []byte(first))
				if err != nil {
					t.Fatalf("refused at the first step (%v): that tells users apart", err)
				}
				final, err := client.Step(string(serverFirst))
				if err != nil {
					t.Fatalf("client: %v", err)
				}
				_, _, err = conv.Continue([]byte(final))
				var e *dbauth.Error
				if !errors.As(err, &e) || e.Code != 18 || e.CodeName != "AuthenticationFailed" || e.Message != "Authentication failed." {
					t.Fatalf("error %v, want 18 AuthenticationFailed", err)
				}
				if conv.User() != nil {
					t.Error("a user after a failure")
				}
			})
		}
	}
	// The scoped user does reach its own cluster, the others theirs.
	if _, err := login(t, a, at(groupA, "other"), dbauth.SHA256, "scoped", "correct horse"); err != nil {
		t.Errorf("scoped user on its cluster: %v", err)
	}
	if _, err := login(t, a, at(groupB, "any"), dbauth.SHA256, "bob", "correct horse"); err != nil {
		t.Errorf("bob in his project: %v", err)
	}
}

// TestSCRAMUnknownUserSaltIsStable: asking twice about a user who does not
// exist shows the same salt, as for one who does.
func TestSCRAMUnknownUserSaltIsStable(t *testing.T) {
	a, _, _ := fixture(t)
	salt := func(user string) string {
		client := driverClient(t, dbauth.SHA256, user, "x")
		first, _ := client.Step("")
		_, serverFirst, err := a.Start(context.Background(), dbauth.Target{GroupID: groupA, Cluster: "c", Database: "admin"}, dbauth.SHA256, []byte(first))
		if err != nil {
			t.Fatal(err)
		}
		for f := range strings.SplitSeq(string(serverFirst), ",") {
			if strings.HasPrefix(f, "s=") {
				return f
			}
		}
		t.Fatalf("no salt in %q", serverFirst)
		return ""
	}
	ghost, alice := salt("ghost"), salt("alice")
	if salt("ghost") != ghost || salt("alice") != alice || salt("ghost2") == ghost {
		t.Error("salts of unknown users differ between attempts or collide")
	}
}

func TestSCRAMEdgeCases(t *testing.T) {
	a, us, _ := fixture(t)
	target := dbauth.Target{GroupID: groupA, Cluster: "flexA", Database: "admin"}
	ctx := context.Background()

	_, _, err := a.Start(ctx, target, "PLAIN", []byte("x"))
	var e *dbauth.Error
	if !errors.As(err, &e) || e.Code != 334 || e.CodeName != "MechanismUnavailable" {
		t.Errorf("unknown mechanism: %v", err)
	}
	for _, bad := range []string{"", "garbage", "n,,n=alice", "p=tls-unique,,n=alice,r=abc", strings.Repeat("a", 5000)} {
		if _, _, err := a.Start(ctx, target, dbauth.SHA256, []byte(bad)); !errors.Is(err, dbauth.ErrAuthenticationFailed) {
			t.Errorf("client-first %q: %v", bad, err)
		}
	}

	// A replayed client-final (another conversation's proof) fails: the
	// server's nonce differs each time.
	client := driverClient(t, dbauth.SHA256, "alice", "correct horse")
	first, _ := client.Step("")
	conv1, sf1, err := a.Start(ctx, target, dbauth.SHA256, []byte(first))
	if err != nil {
		t.Fatal(err)
	}
	final, _ := client.Step(string(sf1))
	if _, _, err := conv1.Continue([]byte(final)); err != nil {
		t.Fatal(err)
	}
	conv2, _, err := a.Start(ctx, target, dbauth.SHA256, []byte(first))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conv2.Continue([]byte(final)); !errors.Is(err, dbauth.ErrAuthenticationFailed) {
		t.Errorf("replayed proof: %v", err)
	}
	// A tampered proof fails; so does talking after the end.
	conv3, _, err := a.Start(ctx, target, dbauth.SHA256, []byte(first))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conv3.Continue([]byte(strings.Replace(final, "p=", "p=AAAA", 1))); !errors.Is(err, dbauth.ErrAuthenticationFailed) {
		t.Errorf("tampered proof: %v", err)
	}
	if _, _, err := conv1.Continue([]byte("more")); !errors.Is(err, dbauth.ErrAuthenticationFailed) {
		t.Errorf("payload after the end: %v", err)
	}

	// A store that cannot be read refuses, and says why to the wire front.
	us.fail = errors.New("disk on fire")
	client = driverClient(t, dbauth.SHA256, "alice", "correct horse")
	first, _ = client.Step("")
	conv, sf, err := a.Start(ctx, target, dbauth.SHA256, []byte(first))
	if err != nil {
		t.Fatal(err)
	}
	final, _ = client.Step(string(sf))
	if _, _, err := conv.Continue([]byte(final)); !errors.Is(err, dbauth.ErrAuthenticationFailed) || conv.LookupError() == nil {
		t.Errorf("broken store: %v, lookup error %v", err, conv.LookupError())
	}
}

func TestCredentialsKeepNoPassword(t *testing.T) {
	creds, err := dbauth.NewCredentials("alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []flexd.SCRAMKey{creds.SHA1, creds.SHA256} {
		for _, b := range [][]byte{k.Salt, k.StoredKey, k.ServerKey} {
			if strings.Contains(string(b), "correct horse") {
				t.Error("password in the keys")
			}
		}
	}
	if creds.SHA1.Iterations != dbauth.DefaultSHA1Iterations || len(creds.SHA1.Salt) != 16 ||
		creds.SHA256.Iterations != dbauth.DefaultSHA256Iterations || len(creds.SHA256.Salt) != 28 {
		t.Errorf("key factors %+v %+v", creds.SHA1, creds.SHA256)
	}
	again, _ := dbauth.NewCredentials("alice", "correct horse")
	if string(again.SHA256.Salt) == string(creds.SHA256.Salt) {
		t.Error("salt reused")
	}
}

func TestGate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []flexd.AccessListEntry{
		{CIDRBlock: "127.0.0.0/8"},
		{CIDRBlock: "2001:db8::/32"},
		{CIDRBlock: "198.51.100.7/32", DeleteAfterDate: now.Add(time.Hour)},
		{CIDRBlock: "203.0.113.0/24", DeleteAfterDate: now},
	}
	lists := listStore{groupA: entries}
	g := dbauth.NewGate(lists, &clock{now: now})
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "2001:db8::5": true, "198.51.100.7": true,
		"198.51.100.8": false, "203.0.113.1": false, "10.0.0.1": false, "::1": false, "fe80::1%eth0": false,
	} {
		if got := g.Allowed(context.Background(), groupA, netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: allowed %v, want %v", addr, got, want)
		}
	}
	if g.Allowed(context.Background(), groupB, netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty list lets someone in")
	}
	if dbauth.NewGate(listStore(nil), nil).Allowed(context.Background(), "broken", netip.MustParseAddr("127.0.0.1")) {
		t.Error("a broken store lets someone in")
	}
	if dbauth.Allows(entries, netip.MustParseAddr("198.51.100.7"), now.Add(time.Hour)) {
		t.Error("an expired entry still admits")
	}
}

type listStore map[string][]flexd.AccessListEntry

func (l listStore) ListAccessListEntries(_ context.Context, groupID string, _ time.Time, p flexd.Page) ([]flexd.AccessListEntry, int, error) {
	if groupID == "broken" {
		return nil, 0, errors.New("broken")
	}
	if p.Num > 1 {
		return nil, 0, nil
	}
	return l[groupID], len(l[groupID]), nil
}

// FuzzConversation sends arbitrary client messages: never a panic, and
// never a user without the right proof.
func FuzzConversation(f *testing.F) {
	f.Add("n,,n=alice,r=abc", "c=biws,r=abc,p=AAAA", true)
	f.Add("n,,n=,r=", "", false)
	f.Add("y,a=x,n=alice,r=a", "c=eSxhPXgs,r=a,p=", true)
	a, _, _ := fixture(f)
	target := dbauth.Target{GroupID: groupA, Cluster: "flexA", Database: "admin"}
	f.Fuzz(func(t *testing.T, first, final string, sha256 bool) {
		mech := dbauth.SHA1
		if sha256 {
			mech = dbauth.SHA256
		}
		conv, _, err := a.Start(context.Background(), target, mech, []byte(first))
		if err != nil {
			return
		}
		if _, done, err := conv.Continue([]byte(final)); err == nil || done || conv.User() != nil {
			t.Fatalf("authenticated with a made-up proof: %q %q", first, final)
		}
	})
}

// BenchmarkSCRAMServer is the server's side of a SCRAM login, from
// saslStart to the server's signature, with a client that has derived its
// keys once (as the Go driver caches them per credential): what flexd
// spends per connection that authenticates, apart from the client's
// PBKDF2.
func BenchmarkSCRAMServer(b *testing.B) {
	a, _, _ := fixture(b)
	target := dbauth.Target{GroupID: groupA, Cluster: "c", Database: "admin"}
	for _, mech := range []string{dbauth.SHA256, dbauth.SHA1} {
		var c *scram.Client
		var err error
		if mech == dbauth.SHA1 {
			c, err = scram.SHA1.NewClientUnprepped("alice", mongoPasswordDigest("alice", "correct horse"), "")
		} else {
			c, err = scram.SHA256.NewClientUnprepped("alice", "correct horse", "")
		}
		if err != nil {
			b.Fatal(err)
		}
		login := func(b *testing.B) {
			client := c.NewConversation()
			first, _ := client.Step("")
			conv, serverFirst, err := a.Start(context.Background(), target, mech, []byte(first))
			if err != nil {
				b.Fatal(err)
			}
			final, _ := client.Step(string(serverFirst))
			serverFinal, done, err := conv.Continue([]byte(final))
			if err != nil || !done {
				b.Fatal(err)
			}
			if _, err := client.Step(string(serverFinal)); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(mech, func(b *testing.B) {
			login(b) // the client derives its keys once, outside the timing
			for b.Loop() {
				login(b)
			}
		})
	}
}
