package flexdtest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/flexdtest"
)

// The database user the data plane tests log in as.
const (
	dbUser     = "app"
	dbPassword = "app-password-0123"
)

// createDatabaseUser makes the project's database user with the SDK, as
// with Atlas: a cluster endpoint serves only its project's users, from
// an address of its IP access list (a new project's holds loopback).
func createDatabaseUser(t testing.TB, api *admin.APIClient, groupID string) {
	t.Helper()
	u := admin.NewCloudDatabaseUser("admin", groupID, dbUser)
	u.Password = admin.PtrString(dbPassword)
	u.Roles = &[]admin.DatabaseUserRole{{RoleName: "atlasAdmin", DatabaseName: "admin"}}
	if _, _, err := api.DatabaseUsersApi.CreateDatabaseUser(context.Background(), groupID, u).Execute(); err != nil {
		t.Fatalf("create database user: %v", err)
	}
}

// clientOptions are the Go driver's options for a cluster's connection
// string, as the database user.
func clientOptions(uri string) *options.ClientOptions {
	return options.Client().ApplyURI(uri).SetRetryWrites(false).SetTimeout(20 * time.Second).
		SetAuth(options.Credential{Username: dbUser, Password: dbPassword, AuthSource: "admin"})
}

// connect connects the Go driver to a cluster's connection string.
func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(clientOptions(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func names(t testing.TB, c *mongo.Client) []string {
	t.Helper()
	cur, err := c.Database("app").Collection("people").Find(context.Background(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct{ Name string }
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.Name)
	}
	return out
}

// TestDataPlane: every cluster is a MongoDB endpoint; a snapshot carries
// its documents and a restore puts them into another cluster. Two servers
// run it at once on the same port range.
func TestDataPlane(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := flexdtest.New(t)
			api := digestClient(t, srv)
			groupID := createProject(t, api, srv.OrgID, "data")
			createDatabaseUser(t, api, groupID)
			source := createIdleCluster(t, api, groupID, "source")
			target := createIdleCluster(t, api, groupID, "target")
			uri := source.ConnectionStrings.GetStandard()
			if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") {
				t.Fatalf("source's connection string: %q", uri)
			}
			src := connect(t, uri)
			people := src.Database("app").Collection("people")
			ctx := context.Background()
			if _, err := people.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "before"}}); err != nil {
				t.Fatal(err)
			}
			sn := srv.Snapshot(groupID, "source")
			if _, err := people.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "after"}}); err != nil {
				t.Fatal(err)
			}
			if job := restore(t, api, groupID, "source", sn.ID, "target"); job.GetStatus() != "COMPLETED" {
				t.Fatalf("restore: %s", job.GetStatus())
			}
			dst := connect(t, target.ConnectionStrings.GetStandard())
			if got := names(t, dst); len(got) != 1 || got[0] != "before" {
				t.Fatalf("target after the restore: %v, want [before]", got)
			}
			if got := names(t, src); len(got) != 2 {
				t.Fatalf("source after the restore: %v, want both", got)
			}
		})
	}
}

// TestCloseLeavesNothing: once Close has returned, no goroutine of the
// server runs on, its API port and its clusters' ports are free, and a
// second Close is harmless. Not parallel: it counts the process's
// goroutines.
func TestCloseLeavesNothing(t *testing.T) {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	before := runtime.NumGoroutine()

	srv, err := flexdtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "leaks")
	createDatabaseUser(t, api, groupID)
	c := createIdleCluster(t, api, groupID, "c")
	db, err := mongo.Connect(clientOptions(c.ConnectionStrings.GetStandard()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Database("x").Collection("y").InsertOne(context.Background(), bson.D{{Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	srv.Snapshot(groupID, "c")
	if err := db.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	api.GetConfig().HTTPClient.CloseIdleConnections()
	client.CloseIdleConnections()

	apiAddr := strings.TrimPrefix(srv.URL, "http://")
	u, err := url.Parse(c.ConnectionStrings.GetStandard())
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{apiAddr, u.Host} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s still held after Close: %v", addr, err)
			continue
		}
		ln.Close()
	}
	if _, err := client.Get(srv.URL + "/healthz"); err == nil || !isRefused(err) {
		t.Errorf("GET after Close: %v, want connection refused", err)
	}

	// Goroutines end asynchronously after their connections close (the
	// clients' read loops); wait for the count to come back.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "refused")
}

// TestWithoutDataPlane: clusters are records: no endpoint answers at their
// connection string, and a snapshot and a restore still complete.
func TestWithoutDataPlane(t *testing.T) {
	t.Parallel()
	srv := flexdtest.New(t, flexdtest.WithoutDataPlane(), flexdtest.WithClusterPorts("61990-61999"))
	api := digestClient(t, srv)
	groupID := createProject(t, api, srv.OrgID, "records")
	c := createIdleCluster(t, api, groupID, "source")
	createIdleCluster(t, api, groupID, "target")
	if !strings.Contains(srv.Logs(), "data plane off") {
		t.Errorf("the log does not say the data plane is off:\n%s", srv.Logs())
	}
	if got := c.ConnectionStrings.GetStandard(); strings.Contains(got, "127.0.0.1") {
		t.Fatalf("an endpoint's connection string without a data plane: %q", got)
	}
	sn := srv.Snapshot(groupID, "source")
	if job := restore(t, api, groupID, "source", sn.ID, "target"); sn.Status != flexd.StatusCompleted || job.GetStatus() != "COMPLETED" {
		t.Fatalf("snapshot %s, restore %s", sn.Status, job.GetStatus())
	}
}
