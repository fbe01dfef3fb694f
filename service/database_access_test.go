package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
)

// TestDatabaseUserPasswordsNeverStored creates and re-passwords database
// users through the service on a real SQLite file, then reads every byte
// flexd wrote: no password appears, in any spelling the SCRAM keys are
// derived from.
func TestDatabaseUserPasswordsNeverStored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(store, nil, nil, service.Config{})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p := &flexd.Project{ID: flexd.NewID(flexd.SystemClock{}.Now()), OrgID: svc.DefaultOrgID(), Name: "secrets"}
	if err := store.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	passwords := []string{"first-Passw0rd-zq", "second-Passw0rd-zq", "third-Passw0rd-zq"}
	if _, err := svc.CreateDatabaseUser(ctx, p.ID, flexd.DatabaseUserCreate{Username: "alice", Password: passwords[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateDatabaseUser(ctx, p.ID, "admin", "alice", flexd.DatabaseUserUpdate{Password: &passwords[1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateDatabaseUser(ctx, p.ID, flexd.DatabaseUserCreate{Username: "bob", Password: passwords[2]}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.GetDatabaseUser(ctx, p.ID, "admin", "alice")
	if err != nil || len(u.SCRAM.SHA256.StoredKey) != 32 || len(u.SCRAM.SHA1.StoredKey) != 20 {
		t.Fatalf("stored keys: %+v %v", u, err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no files to scan")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("alice")) && filepath.Base(f) == "flexd.db" {
			t.Errorf("%s holds no user at all: the scan would prove nothing", f)
		}
		for _, pw := range passwords {
			if bytes.Contains(data, []byte(pw)) {
				t.Errorf("%s contains a password", f)
			}
		}
	}
}
