package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/flexd/flexd/ferret"
	"github.com/flexd/flexd/mongowire"
)

// backendPassword is the external deployment's password in every test
// here: nothing flexd writes (logs, data directory, answers) may hold it.
const backendPassword = "pw-Xq7-never-in-logs"

// externalDeployment is a second embedded FerretDB behind a wire front of
// its own, started by the test: the "existing MongoDB" a team attaches.
type externalDeployment struct {
	port  int
	front *mongowire.Front
	fm    *ferret.Manager
}

func startExternal(t *testing.T) *externalDeployment {
	t.Helper()
	fm, err := ferret.New(ferret.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fm.Backend("external")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &externalDeployment{port: ln.Addr().(*net.TCPAddr).Port, fm: fm}
	e.front = mongowire.Serve(ln, b, mongowire.Options{Name: "external"})
	t.Cleanup(e.stop)
	return e
}

func (e *externalDeployment) stop() {
	e.front.Close()
	e.fm.Close()
}

func (e *externalDeployment) host() string { return "127.0.0.1:" + strconv.Itoa(e.port) }

// uri is the connection string with credentials (FerretDB v1.24's SQLite
// backend takes any PLAIN credentials).
func (e *externalDeployment) uri() string {
	return "mongodb://backup:" + backendPassword + "@" + e.host() + "/?authMechanism=PLAIN&appName=ops"
}

func (p *planeServer) backendPath(cluster string) string {
	return "/_flexd/groups/" + p.g + "/flexClusters/" + cluster + "/backend"
}

func (p *planeServer) restore(source, snap, target string) map[string]any {
	p.t.Helper()
	id := p.restoreJob(source, snap, target)
	var j map[string]any
	p.await("restore "+id+" ends", func() bool {
		j = p.must(200, "GET", "/_flexd/groups/"+p.g+"/flexClusters/"+source+"/backup/restoreJobs/"+id, "")
		return j["status"] == "COMPLETED" || j["status"] == "FAILED"
	})
	return j
}

func (p *planeServer) snapshotEnds(cluster string) map[string]any {
	p.t.Helper()
	id := p.must(201, "POST", "/_flexd/groups/"+p.g+"/flexClusters/"+cluster+"/snapshots", "")["id"].(string)
	var sn map[string]any
	p.await("snapshot "+id+" ends", func() bool {
		sn = p.must(200, "GET", "/_flexd/groups/"+p.g+"/flexClusters/"+cluster+"/backup/snapshots/"+id, "")
		return sn["status"] == "COMPLETED" || sn["status"] == "FAILED"
	})
	return sn
}

func startBackendPlane(t *testing.T, dir string) *planeServer {
	t.Helper()
	return &planeServer{t: t, s: start(t, dir, map[string]string{"FLEXD_PROVISION_TIME": "0",
		"FLEXD_RESTORE_TIME": "0", "FLEXD_CLUSTER_PORTS": testClusterPorts(), "FLEXD_LOG_LEVEL": "debug"})}
}

// TestAttachedBackendSnapshotRestoreDownload attaches a second FerretDB,
// started here, to a cluster record through PUT …/backend, and drives
// Atlas's backup API over it with the official driver: a snapshot of it,
// changes, a restore that brings back exactly the snapshot's documents
// (byte for byte) and indexes, restores across backends both ways, the
// download parsed with the bson package, a restart that keeps the
// attachment, a failed snapshot once the deployment is gone, and a detach
// back to the embedded data. The password in the URI is in no answer, no
// log line and no file of the data directory.
func TestAttachedBackendSnapshotRestoreDownload(t *testing.T) {
	dir := t.TempDir()
	ext := startExternal(t)
	p := startBackendPlane(t, dir)
	p.g = p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"attach"}`)["id"].(string)
	p.must(201, "POST", "/api/atlas/v2/groups/"+p.g+"/databaseUsers", dbUserBody)
	p.flex = "/api/atlas/v2/groups/" + p.g + "/flexClusters"
	ctx := context.Background()

	extClient := connect(t, ext.uri())
	seedData(t, extClient, "app", 120)
	seedData(t, extClient, "crm", 7)
	emb, _ := p.cluster("emb")
	seedData(t, emb, "embedded", 30)
	att, embeddedURI := p.cluster("att")
	seedData(t, att, "before", 4) // the cluster's own data, kept for a detach
	attBefore := dump(t, att)

	// Embedded until attached.
	if b := p.must(200, "GET", p.backendPath("att"), ""); b["kind"] != "embedded" || b["connectionString"] != embeddedURI {
		t.Fatalf("backend before attaching: %v", b)
	}
	// Bad bodies and bad deployments: Atlas errors, nothing attached.
	for _, tc := range []struct{ body, code string }{
		{`{}`, "MISSING_ATTRIBUTE"},
		{`{"uri":`, "MALFORMED_JSON"},
		{`{"uri":"http://example.com/"}`, "INVALID_BACKEND_URI"},
		{`{"uri":"mongodb://u:` + backendPassword + `@127.0.0.1:1/?authMechanism=PLAIN&connectTimeoutMS=nope"}`, "INVALID_BACKEND_URI"},
		{`{"uri":"mongodb://u:` + backendPassword + `@127.0.0.1:1/?authMechanism=PLAIN"}`, "BACKEND_UNREACHABLE"},
	} {
		code, m := do(t, "PUT", p.s.base+p.backendPath("att"), tc.body)
		if code != 400 || m["errorCode"] != tc.code {
			t.Errorf("PUT backend %s = %d %v, want 400 %s", tc.body, code, m, tc.code)
		}
		if b, _ := json.Marshal(m); bytes.Contains(b, []byte(backendPassword)) {
			t.Errorf("PUT backend %s: the answer holds the password: %s", tc.body, b)
		}
	}
	if code, m := do(t, "PUT", p.s.base+"/_flexd/groups/"+p.g+"/flexClusters/nope/backend", `{"uri":"`+ext.uri()+`"}`); code != 404 || m["errorCode"] != "CLUSTER_NOT_FOUND" {
		t.Errorf("PUT backend of a missing cluster = %d %v", code, m)
	}

	// Attach: the answer, GET …/backend and the cluster show the hosts and
	// a connection string without credentials.
	standard := "mongodb://" + ext.host() + "/?authMechanism=PLAIN"
	b := p.must(200, "PUT", p.backendPath("att"), `{"uri":"`+ext.uri()+`"}`)
	if b["kind"] != "external" || b["hosts"] != ext.host() || b["connectionString"] != standard || b["attachedAt"] == nil {
		t.Fatalf("PUT backend = %v", b)
	}
	if got := p.must(200, "GET", p.backendPath("att"), ""); got["kind"] != "external" || got["connectionString"] != standard {
		t.Fatalf("GET backend = %v", got)
	}
	c := p.must(200, "GET", p.flex+"/att", "")
	if got := c["connectionStrings"].(map[string]any)["standard"]; got != standard {
		t.Fatalf("attached cluster's connectionStrings.standard = %v, want %s", got, standard)
	}
	for _, m := range []map[string]any{b, c, p.must(200, "GET", p.flex, ""), p.must(200, "GET", p.backendPath("att"), "")} {
		if raw, _ := json.Marshal(m); bytes.Contains(raw, []byte(backendPassword)) || bytes.Contains(raw, []byte("backup:")) {
			t.Errorf("an answer shows the URI's credentials: %s", raw)
		}
	}
	// Its embedded endpoint is closed (its data kept for a detach).
	closed, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := att.Ping(closed, nil); err == nil {
		t.Error("the embedded endpoint of an attached cluster still answers")
	}

	// Snapshot the deployment, change it, restore: exactly the snapshot.
	want := dump(t, extClient)
	sn := p.snapshotEnds("att")
	if sn["status"] != "COMPLETED" {
		t.Fatalf("snapshot of the attached deployment: %v", sn)
	}
	snap := sn["id"].(string)
	if _, err := extClient.Database("app").Collection("people").InsertOne(ctx, bson.D{{Key: "_id", Value: "late"}, {Key: "name", Value: "late"}}); err != nil {
		t.Fatal(err)
	}
	if err := extClient.Database("crm").Collection("people").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	seedData(t, extClient, "after", 3)
	if j := p.restore("att", snap, "att"); j["status"] != "COMPLETED" {
		t.Fatalf("restore into the attached deployment: %v", j)
	}
	sameState(t, "the deployment after a restore of its snapshot", dump(t, extClient), want)

	// The download is the dump itself: mongodump's layout, parsed.
	link := p.must(200, "POST", p.flex+"/att/backup/download", `{"snapshotId":"`+snap+`"}`)["snapshotUrl"].(string)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download = %d %s", resp.StatusCode, body)
	}
	checkDump(t, body, want)

	// Across backends: the attached cluster's snapshot into an embedded
	// cluster, and an embedded cluster's snapshot into the deployment.
	if j := p.restore("att", snap, "emb"); j["status"] != "COMPLETED" {
		t.Fatalf("restore of the deployment's snapshot into an embedded cluster: %v", j)
	}
	sameState(t, "an embedded cluster restored from the deployment's snapshot", dump(t, emb), want)
	seedData(t, emb, "embonly", 5)
	embWant := dump(t, emb)
	embSnap := p.snapshotEnds("emb")
	if embSnap["status"] != "COMPLETED" {
		t.Fatalf("snapshot of emb: %v", embSnap)
	}
	seedData(t, emb, "x", 2)           // not in the snapshot
	seedData(t, extClient, "stale", 2) // dropped by the restore
	if j := p.restore("emb", embSnap["id"].(string), "att"); j["status"] != "COMPLETED" {
		t.Fatalf("restore of an embedded snapshot into the deployment: %v", j)
	}
	sameState(t, "the deployment restored from an embedded cluster's snapshot", dump(t, extClient), embWant)

	// A corrupt artifact fails the restore before anything is dropped.
	attID := p.must(200, "GET", p.flex+"/att", "")["id"].(string)
	before := dump(t, extClient)
	blob := filepath.Join(dir, "blobs", "snapshots", attID, snap+".tgz")
	good, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("the attached cluster's snapshot is not a .tgz in the blob store: %v", err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(blob, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	j := p.restore("att", snap, "att")
	if reason, _ := j["failureReason"].(string); j["status"] != "FAILED" || !strings.Contains(reason, "checksum") {
		t.Errorf("restore of a corrupt artifact into the deployment: %v", j)
	}
	sameState(t, "the deployment after a restore of a corrupt artifact", dump(t, extClient), before)
	if err := os.WriteFile(blob, good, 0o600); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the attachment (the URI is unsealed again).
	p.s.stop(t)
	logs := p.s.logs.String()
	p.s = start(t, dir, map[string]string{"FLEXD_PROVISION_TIME": "0", "FLEXD_RESTORE_TIME": "0",
		"FLEXD_CLUSTER_PORTS": testClusterPorts(), "FLEXD_LOG_LEVEL": "debug"})
	if got := p.must(200, "GET", p.backendPath("att"), ""); got["kind"] != "external" || got["hosts"] != ext.host() {
		t.Fatalf("GET backend after a restart = %v", got)
	}
	if got := p.must(200, "GET", p.flex+"/att", "")["connectionStrings"].(map[string]any)["standard"]; got != standard {
		t.Fatalf("after a restart connectionStrings.standard = %v", got)
	}
	if sn := p.snapshotEnds("att"); sn["status"] != "COMPLETED" {
		t.Fatalf("snapshot after a restart: %v", sn)
	}

	// The deployment gone: a snapshot and a restore end FAILED with a
	// reason that names the host, never the password.
	ext.stop()
	sn = p.snapshotEnds("att")
	reason, _ := sn["failureReason"].(string)
	if sn["status"] != "FAILED" || !strings.Contains(reason, ext.host()) || strings.Contains(reason, backendPassword) {
		t.Errorf("snapshot of a deployment that is gone: %v", sn)
	}
	t.Logf("snapshot of a deployment that is gone: %s", reason)
	j = p.restore("emb", embSnap["id"].(string), "att")
	reason, _ = j["failureReason"].(string)
	t.Logf("restore into a deployment that is gone: %s", reason)
	if j["status"] != "FAILED" || !strings.Contains(reason, ext.host()) || strings.Contains(reason, backendPassword) {
		t.Errorf("restore into a deployment that is gone: %v", j)
	}

	// Detach: embedded again, with the data it held before attaching.
	b = p.must(200, "DELETE", p.backendPath("att"), "")
	if b["kind"] != "embedded" || !strings.HasPrefix(b["connectionString"].(string), "mongodb://127.0.0.1:") {
		t.Fatalf("DELETE backend = %v", b)
	}
	uri := p.must(200, "GET", p.flex+"/att", "")["connectionStrings"].(map[string]any)["standard"].(string)
	if uri != b["connectionString"] {
		t.Errorf("after a detach connectionStrings.standard = %s, DELETE said %v", uri, b["connectionString"])
	}
	sameState(t, "a detached cluster", dump(t, connect(t, uri)), attBefore)
	if b := p.must(200, "DELETE", p.backendPath("att"), ""); b["kind"] != "embedded" {
		t.Errorf("detaching an embedded cluster = %v", b)
	}

	// The password is in no log line and no file of the data directory.
	logs += p.s.logs.String()
	if strings.Contains(logs, backendPassword) {
		t.Error("the logs hold the backend's password")
	}
	if !strings.Contains(logs, `"method":"PUT","path":"/_flexd/groups/`+p.g+`/flexClusters/att/backend"`) {
		t.Error("the request log has no PUT …/backend line: is this the log?")
	}
	p.s.stop(t)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(backendPassword)) {
			t.Errorf("%s holds the backend's password", path)
		}
		if strings.HasSuffix(path, "flexd.db") && !bytes.Contains(b, []byte("cluster_backends")) {
			t.Errorf("%s has no cluster_backends table: is this the store?", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
