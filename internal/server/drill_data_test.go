package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/drill"
)

// dataDrillWorld is a drillWorld whose clusters hold data: a database
// user, documents written with the Go driver into src (and others into
// dst, which the restore replaces), and a snapshot of src taken after.
type dataDrillWorld struct {
	*drillWorld
	src, dst *mongo.Client
	snap     string
}

func newDataDrillWorld(t *testing.T) *dataDrillWorld {
	t.Helper()
	w := &dataDrillWorld{drillWorld: newDrillWorld(t, map[string]string{"FLEXD_CLUSTER_PORTS": testClusterPorts()})}
	if code, body := w.admin(t, w.base, "POST", "/api/atlas/v2/groups/"+w.project+"/databaseUsers", dbUserBody); code != 201 {
		t.Fatalf("create database user: %d %v", code, body)
	}
	w.src = driverClient(t, w.standard(t, "src"), testDBUser, testDBPassword, "")
	w.dst = driverClient(t, w.standard(t, "dst"), testDBUser, testDBPassword, "")
	ctx := context.Background()
	var people []any
	for i := range 120 {
		people = append(people, bson.D{{Key: "_id", Value: i}, {Key: "name", Value: "p" + string(rune('a'+i%26))},
			{Key: "tags", Value: bson.A{i, "x", 1.5}}, {Key: "at", Value: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)}})
	}
	mustInsert(t, w.src.Database("app").Collection("people"), people...)
	mustInsert(t, w.src.Database("crm").Collection("leads"),
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "nested", Value: bson.D{{Key: "a", Value: 1}}}},
		bson.D{{Key: "_id", Value: "s"}, {Key: "n", Value: nil}})
	if err := w.src.Database("app").CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, w.dst.Database("old").Collection("stuff"), bson.D{{Key: "_id", Value: 1}})

	code, body := w.admin(t, w.base, "POST", "/_flexd/groups/"+w.project+"/flexClusters/src/snapshots", "")
	if code != 201 {
		t.Fatalf("take snapshot: %d %v", code, body)
	}
	w.snap = body["id"].(string)
	awaitUntil(t, "the snapshot to complete", func() bool {
		_, s := w.admin(t, w.base, "GET", "/api/atlas/v2/groups/"+w.project+"/flexClusters/src/backup/snapshots/"+w.snap, "")
		if s["status"] == "FAILED" {
			t.Fatalf("snapshot failed: %v", s)
		}
		return s["status"] == "COMPLETED"
	})
	return w
}

func (w *dataDrillWorld) standard(t *testing.T, cluster string) string {
	t.Helper()
	code, body := w.admin(t, w.base, "GET", "/api/atlas/v2/groups/"+w.project+"/flexClusters/"+cluster, "")
	uri, _ := body["connectionStrings"].(map[string]any)["standard"].(string)
	if code != 200 || uri == "" {
		t.Fatalf("cluster %s: %d %v", cluster, code, body)
	}
	return uri
}

func mustInsert(t *testing.T, c *mongo.Collection, docs ...any) {
	t.Helper()
	if _, err := c.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

// checksumOf is the written definition of a collection's checksum, done
// here apart from the code under test: the SHA-256 of the sorted SHA-256s
// of each document's BSON as the server returns it.
func checksumOf(t *testing.T, c *mongo.Collection) (int64, string) {
	t.Helper()
	cur, err := c.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var digests [][]byte
	for cur.Next(context.Background()) {
		d := sha256.Sum256(cur.Current)
		digests = append(digests, d[:])
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(digests, bytes.Compare)
	sum := sha256.Sum256(bytes.Join(digests, nil))
	return int64(len(digests)), hex.EncodeToString(sum[:])
}

// TestDrillDataMatches: with a database user the drill downloads the
// snapshot, reads the target after the restore, and reports every
// collection of the source (none of what dst held before) with equal
// counts and checksums, which are the definition's over the source's
// documents; JSON and JUnit say the data matches, and so does flexd's own
// report of the job (and, after writes into dst, it shows them). The
// credentials work from the environment too, for a user with
// readAnyDatabase, and the password is never printed.
func TestDrillDataMatches(t *testing.T) {
	w := newDataDrillWorld(t)
	junit := filepath.Join(t.TempDir(), "drill.xml")
	out, progress, err := w.drill(t, w.env, "--snapshot", w.snap, "--json", "--junit", junit,
		"--db-user", testDBUser, "--db-password", testDBPassword)
	if err != nil {
		t.Fatalf("drill: %v\nstdout:\n%s\nstderr:\n%s", err, out, progress)
	}
	var res drill.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if !res.Passed || res.Data.Status != drill.DataMatch || len(res.Collections) != 3 {
		t.Fatalf("result %s", out)
	}
	wantColls := []struct {
		db, coll string
		docs     int64
	}{{"app", "empty", 0}, {"app", "people", 120}, {"crm", "leads", 2}}
	for i, want := range wantColls {
		c := res.Collections[i]
		n, sum := checksumOf(t, w.src.Database(want.db).Collection(want.coll))
		if c.Database != want.db || c.Collection != want.coll || !c.Match || c.Missing != "" ||
			c.SnapshotDocuments != want.docs || c.TargetDocuments != want.docs || n != want.docs ||
			c.SnapshotChecksum != sum || c.TargetChecksum != sum {
			t.Errorf("collection %d: %+v, want %s.%s with %d documents, checksum %s", i, c, want.db, want.coll, want.docs, sum)
		}
	}
	v := readJUnit(t, junit).caseVerdicts()
	if v["data matches the snapshot"] != "pass" || v["restore completes"] != "pass" {
		t.Errorf("JUnit cases %v", v)
	}
	// flexd's own report of the job compares the same, from the
	// snapshot's artifact and the target's data.
	if r := w.report(t, res.RestoreJobID); !slices.Equal(r.Collections, res.Collections) {
		t.Errorf("flexd's report: %+v\nthe drill's: %+v", r.Collections, res.Collections)
	}
	// It reads the target as it is when asked: a write since shows.
	mustInsert(t, w.dst.Database("app").Collection("people"), bson.D{{Key: "_id", Value: "late"}})
	mustInsert(t, w.dst.Database("zz").Collection("new"), bson.D{{Key: "_id", Value: 1}})
	r := w.report(t, res.RestoreJobID)
	if len(r.Collections) != 4 || r.Collections[0] != res.Collections[0] || r.Collections[1].Match ||
		r.Collections[1].TargetDocuments != 121 || r.Collections[1].SnapshotChecksum != res.Collections[1].SnapshotChecksum ||
		r.Collections[3].Missing != flexd.MissingInSnapshot || r.Collections[3].TargetDocuments != 1 {
		t.Errorf("flexd's report after writes into dst: %+v", r.Collections)
	}
	if strings.Contains(out+progress, testDBPassword) {
		t.Errorf("the password is printed:\n%s\n%s", out, progress)
	}

	// The same from the environment, as text, by a user who can only read.
	const reader, readerPassword = "reader", "reader-pw-91ac"
	if code, body := w.admin(t, w.base, "POST", "/api/atlas/v2/groups/"+w.project+"/databaseUsers",
		`{"databaseName":"admin","username":"`+reader+`","password":"`+readerPassword+`","roles":[{"roleName":"readAnyDatabase","databaseName":"admin"}]}`); code != 201 {
		t.Fatalf("create reader: %d %v", code, body)
	}
	env := map[string]string{"FLEXD_DRILL_DB_USER": reader, "FLEXD_DRILL_DB_PASSWORD": readerPassword}
	for k, v := range w.env {
		env[k] = v
	}
	out, progress, err = w.drill(t, env, "--snapshot", w.snap)
	if err != nil {
		t.Fatalf("drill with the environment's user: %v\n%s", err, out)
	}
	text := squash(out)
	for _, want := range []string{"Restore drill PASSED", "Data check MATCH", "app.people 120 120", "crm.leads 2 2", "app.empty 0 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+progress, readerPassword) || strings.Contains(out, "old.stuff") {
		t.Errorf("text:\n%s\n%s", out, progress)
	}
}

// TestDrillDataWrongPassword: a password the target refuses fails the
// drill (exit 1) with the server's reason, in the text and as a JUnit
// error of "data matches the snapshot", and the password is in none of
// them; --db-user without a password is a usage error.
func TestDrillDataWrongPassword(t *testing.T) {
	w := newDataDrillWorld(t)
	const wrong = "not-the-pw-7f3e"
	junit := filepath.Join(t.TempDir(), "drill.xml")
	out, progress, err := w.drill(t, w.env, "--snapshot", w.snap, "--junit", junit, "--db-user", testDBUser, "--db-password", wrong)
	if ExitCode(err) != 1 || !strings.Contains(err.Error(), "AuthenticationFailed") || !strings.Contains(err.Error(), "data check") {
		t.Fatalf("drill err %v (exit %d), want a failed login\n%s", err, ExitCode(err), out)
	}
	if !strings.Contains(out, "Restore drill FAILED") || !strings.Contains(out, "Data check ERROR") || !strings.Contains(out, "as "+testDBUser) {
		t.Errorf("text:\n%s", out)
	}
	d := readJUnit(t, junit)
	if d.Errors != 1 || !strings.Contains(d.Suites[0].SystemOut, "AuthenticationFailed") {
		t.Errorf("JUnit %+v", d)
	}
	if v := d.caseVerdicts(); v["restore completes"] != "pass" || !strings.Contains(v["data matches the snapshot"], "error: connect to dst") {
		t.Errorf("JUnit cases %v", v)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": progress, "error": err.Error(), "junit": d.Suites[0].SystemOut} {
		if strings.Contains(s, wrong) {
			t.Errorf("the password is in %s: %s", name, s)
		}
	}
	if _, _, err := w.drill(t, w.env, "--db-user", testDBUser); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--db-password") {
		t.Errorf("--db-user alone: %v", err)
	}
	// The restore itself happened and is flexd's to report.
	var res drill.Result
	out, _, _ = w.drill(t, w.env, "--snapshot", w.snap, "--json", "--db-user", testDBUser, "--db-password", wrong)
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Status != flexd.StatusCompleted || res.Data.Status != drill.DataError || len(res.Collections) != 0 {
		t.Errorf("JSON %v:\n%s", err, out)
	}
}
