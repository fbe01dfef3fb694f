package seed_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/postgres"
	"github.com/flexd/flexd/postgres/pgtest"
	"github.com/flexd/flexd/seed"
	"github.com/flexd/flexd/service"
	"github.com/flexd/flexd/sqlite"
	"github.com/flexd/flexd/sqlstore"
)

// world is a store with the service and the engine over it, as flexd
// serve (and an in-process server) wires them.
type world struct {
	store *sqlstore.Store
	cfg   seed.Config
	svc   *service.Service
}

func newWorld(t *testing.T, store *sqlstore.Store) *world {
	t.Helper()
	t.Cleanup(func() { store.Close() })
	clock := jobs.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	eng := jobs.NewSync(store, clock, jobs.Config{SnapshotInterval: 24 * time.Hour})
	svc := service.New(store, clock, eng, service.Config{SecretCost: 4})
	if err := svc.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &world{store: store, svc: svc,
		cfg: seed.Config{Store: store, Factory: svc, Lifecycle: eng, Clock: clock, SecretCost: 4}}
}

func backends(t *testing.T) map[string]func(t *testing.T) *world {
	return map[string]func(t *testing.T) *world{
		"sqlite": func(t *testing.T) *world {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flexd.db"))
			if err != nil {
				t.Fatal(err)
			}
			return newWorld(t, s)
		},
		"postgres": func(t *testing.T) *world {
			s, err := postgres.Open(context.Background(), pgtest.Database(t))
			if err != nil {
				t.Fatal(err)
			}
			return newWorld(t, s)
		},
	}
}

// TestApplyTwice applies the example seed twice on each store: the second
// time writes nothing, and the rows are the ones the file describes.
func TestApplyTwice(t *testing.T) {
	f, err := seed.Load("testdata/ci.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			ctx := context.Background()
			res, err := seed.Apply(ctx, f, w.cfg)
			// 1 organization, 1 project, 2 keys, 1 account, 2 clusters, 2 snapshots.
			if err != nil || res.Created != 9 || res.Updated != 1 { // the instance administrator
				t.Fatalf("first apply = %+v, %v", res, err)
			}
			res, err = seed.Apply(ctx, f, w.cfg)
			if err != nil || res != (seed.Result{}) {
				t.Fatalf("second apply = %+v, %v, want nothing written", res, err)
			}
			p, err := w.store.GetProject(ctx, "65a1b2c3d4e5f60718293a4d")
			if err != nil || p.OrgID != "65a1b2c3d4e5f60718293a4b" || p.ClusterCount != 2 {
				t.Fatalf("project = %+v, %v", p, err)
			}
			c, err := w.store.GetFlexCluster(ctx, p.ID, "source")
			if err != nil || c.StateName != flexd.ClusterIdle || !strings.HasPrefix(c.StandardConnectionString, "mongodb://source-shard-00-00.") {
				t.Fatalf("cluster = %+v, %v", c, err)
			}
			snaps, _, err := w.store.ListSnapshots(ctx, c.ID, flexd.Page{Num: 1, ItemsPerPage: 10})
			if err != nil || len(snaps) != 2 || snaps[0].ID != "695734ec0000000000000001" || snaps[0].ArtifactChecksum == "" {
				t.Fatalf("snapshots = %+v, %v", snaps, err)
			}
			a, err := w.store.GetArtifact(ctx, snaps[0].ID)
			if err != nil || !strings.Contains(string(a.Content), `"team"`) {
				t.Fatalf("artifact = %+v, %v", a, err)
			}
		})
	}
}

// TestApplyChangesCredentials: a seed whose private key or secret changed
// replaces the stored one; the old one stops working.
func TestApplyChangesCredentials(t *testing.T) {
	w := backends(t)["sqlite"](t)
	ctx := context.Background()
	const file = `organizations:
  - name: ci
    apiKeys:
      - {publicKey: abcdefgh, privateKey: PRIVATE, description: d, roles: [ORG_OWNER]}
    serviceAccounts:
      - {clientId: mdb_sa_id_0123456789abcdef01234567, clientSecret: SECRET, name: n, roles: [ORG_MEMBER]}
`
	apply := func(private, secret string) seed.Result {
		t.Helper()
		f, err := seed.Parse("s.yaml", []byte(strings.NewReplacer("PRIVATE", private, "SECRET", secret).Replace(file)))
		if err != nil {
			t.Fatal(err)
		}
		res, err := seed.Apply(ctx, f, w.cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply("private-one", "mdb_sa_sk_one")
	before, _ := w.store.GetAPIKeyByPublicKey(ctx, "abcdefgh")
	if res := apply("private-two", "mdb_sa_sk_two"); res.Updated != 2 || res.Created != 0 {
		t.Fatalf("changed credentials: %+v", res)
	}
	after, _ := w.store.GetAPIKeyByPublicKey(ctx, "abcdefgh")
	if after.ID != before.ID || after.HA1MD5 == before.HA1MD5 {
		t.Errorf("the key was not updated in place: %+v -> %+v", before, after)
	}
	a, err := w.store.GetServiceAccount(ctx, "mdb_sa_id_0123456789abcdef01234567")
	if err != nil || len(a.Secrets) != 1 || a.Secrets[0].MaskedSecretValue != "mdb_sa_sk_..._two" {
		t.Fatalf("account = %+v, %v", a, err)
	}
}

// TestApplyFaultsNameTheirPlace: faults that need the store still name
// the file, line and field, and a fault found before writing writes
// nothing.
func TestApplyFaultsNameTheirPlace(t *testing.T) {
	w := backends(t)["sqlite"](t)
	ctx := context.Background()
	other := "organizations:\n  - name: other\n    apiKeys:\n      - {publicKey: abcdefgh, privateKey: p, description: d, roles: [ORG_OWNER]}\n"
	f, _ := seed.Parse("a.yaml", []byte(other))
	if _, err := seed.Apply(ctx, f, w.cfg); err != nil {
		t.Fatal(err)
	}
	taken := "organizations:\n  - name: ci\n    apiKeys:\n      - publicKey: abcdefgh\n        privateKey: p\n        description: d\n        roles: [ORG_OWNER]\n"
	f, _ = seed.Parse("b.yaml", []byte(taken))
	_, err := seed.Apply(ctx, f, w.cfg)
	var se *seed.Error
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "b.yaml:4: organizations[0].apiKeys[0].publicKey: API key abcdefgh belongs to organization") {
		t.Errorf("a public key of another organization: %v", err)
	}

	bad := "organizations:\n  - name: fresh\n    projects:\n      - name: app\n        clusters:\n          - name: c\n" +
		"            providerSettings: {backingProviderName: AZURE, regionName: US_EAST_1}\n"
	f, _ = seed.Parse("c.yaml", []byte(bad))
	_, err = seed.Apply(ctx, f, w.cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:7: organizations[0].projects[0].clusters[0].providerSettings.regionName: No region US_EAST_1 exists for provider AZURE") {
		t.Errorf("a region the provider lacks: %v", err)
	}
	orgs, _, _ := w.store.ListOrganizations(ctx, flexd.OrganizationFilter{Name: "fresh"}, flexd.Page{Num: 1, ItemsPerPage: 1})
	if len(orgs) != 0 {
		t.Error("a file with a fault was partly applied")
	}
}

// TestSeededClusterLivesOn: a seeded cluster is on the snapshot schedule
// from the first slot after the start (no catch-up for the time before
// flexd held it), retention applies to its seeded snapshots, and a second
// start brings no pruned snapshot back.
func TestSeededClusterLivesOn(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "flexd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	// Created 2026-01-01T06:00 with a daily schedule: slots at 06:00. The
	// clock is 2026-03-01T12:00, so the next slot is 2026-03-02T06:00.
	clock := jobs.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	eng := jobs.NewSync(s, clock, jobs.Config{SnapshotInterval: 24 * time.Hour, SnapshotRetention: 2})
	svc := service.New(s, clock, eng, service.Config{SecretCost: 4})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := seed.Config{Store: s, Factory: svc, Lifecycle: eng, Clock: clock, SecretCost: 4}
	f, err := seed.Parse("s.yaml", []byte(`organizations:
  - name: ci
    projects:
      - name: app
        id: 65a1b2c3d4e5f60718293a4d
        clusters:
          - name: c
            createDate: 2026-01-01T06:00:00Z
            providerSettings: {backingProviderName: AWS, regionName: US_EAST_1}
            snapshots:
              - finishTime: 2026-02-01T06:01:00Z
              - finishTime: 2026-02-02T06:01:00Z
              - finishTime: 2026-02-03T06:01:00Z
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Apply(ctx, f, cfg); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetFlexCluster(ctx, "65a1b2c3d4e5f60718293a4d", "c")
	if err != nil {
		t.Fatal(err)
	}
	list := func() []flexd.Snapshot {
		t.Helper()
		snaps, _, err := s.ListSnapshots(ctx, c.ID, flexd.Page{Num: 1, ItemsPerPage: 10})
		if err != nil {
			t.Fatal(err)
		}
		return snaps
	}
	// Retention (2) pruned the oldest seeded snapshot.
	if got := list(); len(got) != 2 || !got[1].FinishTime.Equal(time.Date(2026, 2, 2, 6, 1, 0, 0, time.UTC)) {
		t.Fatalf("after seeding: %+v", got)
	}
	if res, err := seed.Apply(ctx, f, cfg); err != nil || res != (seed.Result{}) || len(list()) != 2 {
		t.Fatalf("second apply = %+v, %v; %d snapshots", res, err, len(list()))
	}
	if _, err := eng.AdvanceClock(ctx, 17*time.Hour+59*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 2 {
		t.Fatalf("a snapshot before the next slot: %+v", got)
	}
	if _, err := eng.AdvanceClock(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	got := list()
	if len(got) != 2 || !got[0].ScheduledTime.Equal(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)) || got[0].Status != flexd.StatusCompleted {
		t.Fatalf("at the next slot: %+v", got)
	}
}
