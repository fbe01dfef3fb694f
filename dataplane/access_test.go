package dataplane_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/dbauth"
	"github.com/flexd/flexd/mongowire"
)

// accessStore is a project's clusters, users and access list in memory.
type accessStore struct {
	mu       sync.Mutex
	clusters map[string]*flexd.FlexCluster
	users    map[string]*flexd.DatabaseUser
	entries  []flexd.AccessListEntry
}

func (s *accessStore) GetFlexClusterByID(_ context.Context, id string) (*flexd.FlexCluster, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clusters[id]; c != nil {
		return c, nil
	}
	return nil, flexd.ErrNotFound
}

func (s *accessStore) GetDatabaseUser(_ context.Context, groupID, db, name string) (*flexd.DatabaseUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[name]; u != nil && u.GroupID == groupID && db == flexd.AdminDatabase {
		c := *u
		return &c, nil
	}
	return nil, flexd.ErrNotFound
}

func (s *accessStore) ListAccessListEntries(_ context.Context, _ string, _ time.Time, p flexd.Page) ([]flexd.AccessListEntry, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Num > 1 {
		return nil, 0, nil
	}
	return append([]flexd.AccessListEntry(nil), s.entries...), len(s.entries), nil
}

const accessGroup = "aaaaaaaaaaaaaaaaaaaaaaaa"

// readWriteAny is the test user's role: it may run what these tests send.
var readWriteAny = []flexd.DatabaseUserRole{{RoleName: "readWriteAnyDatabase", DatabaseName: flexd.AdminDatabase}}

// guardedPlane serves cluster "c1" of accessGroup behind Access, with a
// user "app" (password "app-password") and loopback on the list.
func guardedPlane(tb testing.TB) (*dataplane.Plane, *accessStore, string) {
	tb.Helper()
	creds, err := dbauth.NewCredentials("app", "app-password")
	if err != nil {
		tb.Fatal(err)
	}
	app := &flexd.DatabaseUser{GroupID: accessGroup, DatabaseName: flexd.AdminDatabase, Username: "app", SCRAM: creds, Roles: readWriteAny}
	st := &accessStore{
		clusters: map[string]*flexd.FlexCluster{},
		users:    map[string]*flexd.DatabaseUser{"app": app},
		entries:  []flexd.AccessListEntry{{CIDRBlock: "127.0.0.0/8"}},
	}
	dir := tb.TempDir()
	first := 20000 + int(time.Now().UnixNano()%12000)
	p, err := dataplane.Open(dataplane.Config{Dir: filepath.Join(dir, "clusters"), TempDir: filepath.Join(dir, "tmp"),
		Ports: mongowire.PortRange{First: first, Last: first + 40}, Access: dataplane.NewAccess(st, nil, nil)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	// A cluster the store does not know is not served: nothing would
	// guard it.
	if _, err := p.Serve(context.Background(), "c1", 0); err == nil {
		tb.Fatal("served a cluster without its project")
	}
	c := &flexd.FlexCluster{ID: "c1", GroupID: accessGroup, Name: "flexA"}
	st.clusters["c1"] = c
	if _, err := p.ServeCluster(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	uri, err := p.ConnectionString("c1")
	if err != nil {
		tb.Fatal(err)
	}
	return p, st, uri
}

func guardedClient(tb testing.TB, uri, user, password string) *mongo.Client {
	tb.Helper()
	if user != "" {
		uri = strings.Replace(uri, "mongodb://", "mongodb://"+url.UserPassword(user, password).String()+"@", 1) + "?authSource=admin"
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(3 * time.Second).SetTimeout(10 * time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

// TestAccessRecheck: a user that has gone, or an entry that has, closes
// the connections it let in at the next Recheck; the others stay.
func TestAccessRecheck(t *testing.T) {
	p, st, uri := guardedPlane(t)
	ctx := context.Background()
	c := guardedClient(t, uri, "app", "app-password")
	if _, err := c.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Database("app").RunCommand(ctx, bson.D{{Key: "count", Value: "c"}}).Err(); err != nil {
		t.Fatalf("after a recheck that changes nothing: %v", err)
	}
	st.mu.Lock()
	delete(st.users, "app")
	st.mu.Unlock()
	if err := p.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	// The pooled connection was closed under the client; a new one
	// authenticates as a user that is gone.
	err := c.Database("app").RunCommand(ctx, bson.D{{Key: "count", Value: "c"}}).Err()
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a gone user's connection: %v", err)
	}
	err = c.Database("app").RunCommand(ctx, bson.D{{Key: "count", Value: "c"}}).Err()
	if err == nil || !strings.Contains(err.Error(), "AuthenticationFailed") {
		t.Fatalf("a gone user reconnecting: %v", err)
	}

	// The same for the access list entry that let the address in.
	creds, _ := dbauth.NewCredentials("app", "app-password")
	st.mu.Lock()
	st.users["app"] = &flexd.DatabaseUser{GroupID: accessGroup, DatabaseName: flexd.AdminDatabase, Username: "app", SCRAM: creds, Roles: readWriteAny}
	st.mu.Unlock()
	c = guardedClient(t, uri, "app", "app-password")
	if err := c.Database("app").RunCommand(ctx, bson.D{{Key: "count", Value: "c"}}).Err(); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	st.entries = []flexd.AccessListEntry{{CIDRBlock: "10.0.0.0/8"}}
	st.mu.Unlock()
	if err := p.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	err = c.Database("app").RunCommand(ctx, bson.D{{Key: "count", Value: "c"}}).Err()
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a connection the list no longer holds: %v", err)
	}
}
