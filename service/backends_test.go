package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
)

// fakeBackends is the data plane as the service sees it, recording what
// it was asked.
type fakeBackends struct {
	checkErr error
	calls    []string
}

func (f *fakeBackends) CheckBackend(_ context.Context, uri string) (*flexd.ClusterBackend, error) {
	f.calls = append(f.calls, "check")
	if f.checkErr != nil {
		return nil, f.checkErr
	}
	return &flexd.ClusterBackend{URI: uri, Hosts: "h:1", ConnectionString: "mongodb://h:1/"}, nil
}

func (f *fakeBackends) Attached(id string) { f.calls = append(f.calls, "attached "+id) }

func (f *fakeBackends) ServeEmbedded(_ context.Context, c *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	f.calls = append(f.calls, "serve "+c.ID)
	return func(c *flexd.FlexCluster) { c.Port, c.StandardConnectionString = 27123, "mongodb://127.0.0.1:27123/" }, nil
}

func (f *fakeBackends) StopEmbedded(id string) { f.calls = append(f.calls, "stop "+id) }

// TestBackendRules: attaching and detaching follow the cluster's state
// (IDLE only, checked before the deployment is dialled), a failed check
// attaches nothing, an attach shows the deployment's connection string
// and closes the embedded endpoint only once committed, and a detach
// serves the embedded endpoint again and records its port.
func TestBackendRules(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := service.New(store, nil, nil, service.Config{})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p := &flexd.Project{ID: flexd.NewID(now), OrgID: svc.DefaultOrgID(), Name: "backends"}
	if err := store.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	cluster := func(name string, st flexd.ClusterState) *flexd.FlexCluster {
		c := &flexd.FlexCluster{ID: flexd.NewID(now), GroupID: p.ID, Name: name, StateName: st, CreateDate: now,
			Port: 27100, StandardConnectionString: "mongodb://127.0.0.1:27100/"}
		if err := store.CreateFlexCluster(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cluster("creating", flexd.ClusterCreating)
	idle := cluster("idle", flexd.ClusterIdle)
	code := func(err error) string {
		var fe *flexd.Error
		if !errors.As(err, &fe) {
			return "not an Atlas error: " + error.Error(err)
		}
		return fe.Code
	}

	// No data plane: refused.
	if _, err := svc.AttachBackend(ctx, p.ID, "idle", "mongodb://h:1/"); code(err) != "FEATURE_UNSUPPORTED" {
		t.Fatalf("attach without a data plane: %v", err)
	}
	f := &fakeBackends{}
	svc.SetBackends(f)
	if _, err := svc.AttachBackend(ctx, p.ID, "nope", "mongodb://h:1/"); code(err) != "CLUSTER_NOT_FOUND" {
		t.Errorf("attach to a missing cluster: %v", err)
	}
	if _, err := svc.AttachBackend(ctx, p.ID, "creating", "mongodb://h:1/"); code(err) != "CANNOT_CHANGE_BACKEND_OF_CLUSTER_NOT_IDLE" {
		t.Errorf("attach to a CREATING cluster: %v", err)
	}
	if _, err := svc.DetachBackend(ctx, p.ID, "creating"); err != nil {
		t.Errorf("detach an embedded CREATING cluster: %v", err) // nothing to change
	}
	if len(f.calls) != 0 {
		t.Fatalf("the data plane was asked %v for refused changes", f.calls)
	}
	f.checkErr = flexd.BackendUnreachable("h:1", "connection refused")
	if _, err := svc.AttachBackend(ctx, p.ID, "idle", "mongodb://h:1/"); code(err) != "BACKEND_UNREACHABLE" {
		t.Errorf("attach of an unreachable deployment: %v", err)
	}
	if v, err := svc.GetBackend(ctx, p.ID, "idle"); err != nil || v.Kind != flexd.BackendEmbedded {
		t.Fatalf("after a failed check: %+v %v", v, err)
	}
	f.checkErr = errors.New("mongodb://u:secret@h:1/ is down")
	if _, err := svc.AttachBackend(ctx, p.ID, "idle", "mongodb://u:secret@h:1/"); code(err) != "BACKEND_UNREACHABLE" || errors.Is(err, f.checkErr) {
		t.Errorf("a check failing with a plain error: %v", err)
	}

	// Attach.
	f.checkErr, f.calls = nil, nil
	v, err := svc.AttachBackend(ctx, p.ID, "idle", "mongodb://u:pw@h:1/")
	if err != nil || v.Kind != flexd.BackendExternal || v.ConnectionString != "mongodb://h:1/" || v.Hosts != "h:1" {
		t.Fatalf("attach = %+v %v", v, err)
	}
	if want := []string{"check", "attached " + idle.ID}; !slices.Equal(f.calls, want) {
		t.Errorf("data plane calls %v, want %v", f.calls, want)
	}
	c, _ := store.GetFlexCluster(ctx, p.ID, "idle")
	if c.StandardConnectionString != "mongodb://h:1/" || c.Port != 27100 {
		t.Errorf("attached cluster: connection string %q, port %d", c.StandardConnectionString, c.Port)
	}
	if v, err := svc.GetBackend(ctx, p.ID, "idle"); err != nil || v.Kind != flexd.BackendExternal || v.AttachedAt.IsZero() {
		t.Errorf("GetBackend = %+v %v", v, err)
	}

	// Not while a restore (or a PATCH) keeps it UPDATING.
	c.StateName = flexd.ClusterUpdating
	if err := store.UpdateFlexCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	if _, err := svc.DetachBackend(ctx, p.ID, "idle"); code(err) != "CANNOT_CHANGE_BACKEND_OF_CLUSTER_NOT_IDLE" {
		t.Errorf("detach from an UPDATING cluster: %v", err)
	}
	if _, err := svc.AttachBackend(ctx, p.ID, "idle", "mongodb://u:pw@h:2/"); code(err) != "CANNOT_CHANGE_BACKEND_OF_CLUSTER_NOT_IDLE" {
		t.Errorf("attach to an UPDATING cluster: %v", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("the data plane was asked %v for refused changes", f.calls)
	}
	c.StateName = flexd.ClusterIdle
	if err := store.UpdateFlexCluster(ctx, c); err != nil {
		t.Fatal(err)
	}

	// Detach, twice.
	v, err = svc.DetachBackend(ctx, p.ID, "idle")
	if err != nil || v.Kind != flexd.BackendEmbedded || v.ConnectionString != "mongodb://127.0.0.1:27123/" {
		t.Fatalf("detach = %+v %v", v, err)
	}
	c, _ = store.GetFlexCluster(ctx, p.ID, "idle")
	if c.StandardConnectionString != "mongodb://127.0.0.1:27123/" || c.Port != 27123 {
		t.Errorf("detached cluster: connection string %q, port %d", c.StandardConnectionString, c.Port)
	}
	if _, err := svc.DetachBackend(ctx, p.ID, "idle"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"serve " + idle.ID}; !slices.Equal(f.calls, want) {
		t.Errorf("data plane calls %v, want %v", f.calls, want)
	}
}
