package server

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd/mongodump"
)

// testClusterPorts is a block of endpoint ports of this test process, so
// parallel test binaries rarely meet (a port another holds is skipped).
func testClusterPorts() string {
	first := 40000 + (os.Getpid()%200)*100
	return strconv.Itoa(first) + "-" + strconv.Itoa(first+99)
}

// planeServer is a flexd on a manual clock whose restores stay RUNNING
// (fenced) until the clock is advanced by an hour.
type planeServer struct {
	t    *testing.T
	s    *started
	g    string
	flex string
}

func startPlane(t *testing.T, dir string) *planeServer {
	t.Helper()
	s := start(t, dir, map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_RESTORE_TIME": "1h", "FLEXD_CLUSTER_PORTS": testClusterPorts()})
	return &planeServer{t: t, s: s}
}

func (p *planeServer) must(status int, method, url, body string) map[string]any {
	p.t.Helper()
	code, m := do(p.t, method, p.s.base+url, body)
	if code != status {
		p.t.Fatalf("%s %s = %d %v, want %d", method, url, code, m, status)
	}
	return m
}

func (p *planeServer) await(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; logs:\n%s", what, p.s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cluster creates a cluster, waits for IDLE, and connects to its
// connectionStrings.standard.
func (p *planeServer) cluster(name string) (*mongo.Client, string) {
	p.t.Helper()
	p.must(201, "POST", p.flex, `{"name":"`+name+`","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	var uri string
	p.await(name+" IDLE", func() bool {
		c := p.must(200, "GET", p.flex+"/"+name, "")
		if c["stateName"] != "IDLE" {
			return false
		}
		uri, _ = c["connectionStrings"].(map[string]any)["standard"].(string)
		return true
	})
	if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") {
		p.t.Fatalf("%s: standard connection string %q", name, uri)
	}
	return connect(p.t, uri), uri
}

// The database user the tests connect as: every cluster endpoint asks for
// one. dbUserBody creates it (atlasAdmin) in a project.
const (
	testDBUser     = "tester"
	testDBPassword = "tester-pw-5c1d"
	dbUserBody     = `{"databaseName":"admin","username":"` + testDBUser + `","password":"` + testDBPassword +
		`","roles":[{"roleName":"atlasAdmin","databaseName":"admin"}]}`
)

// withUser is a connection string (connectionStrings.standard, which
// carries no credentials, as in Atlas) with testDBUser's.
func withUser(uri string) string {
	return strings.Replace(uri, "mongodb://", "mongodb://"+testDBUser+":"+testDBPassword+"@", 1) + "?authSource=admin"
}

// connect connects to uri as testDBUser unless uri names a user.
func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	if !strings.Contains(uri, "@") {
		uri = withUser(uri)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetRetryWrites(false).SetTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A client of a deleted cluster (connection refused) waits out its
		// monitor's 30 s in Disconnect; nothing here depends on it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c.Disconnect(ctx)
	})
	return c
}

func (p *planeServer) snapshot(cluster string) string {
	p.t.Helper()
	id := p.must(201, "POST", "/_flexd/groups/"+p.g+"/flexClusters/"+cluster+"/snapshots", "")["id"].(string)
	p.await("snapshot", func() bool {
		st := p.must(200, "GET", p.flex+"/"+cluster+"/backup/snapshots/"+id, "")["status"]
		if st == "FAILED" {
			p.t.Fatalf("snapshot failed: %v", p.must(200, "GET", "/_flexd/groups/"+p.g+"/flexClusters/"+cluster+"/snapshots/"+id, ""))
		}
		return st == "COMPLETED"
	})
	return id
}

func (p *planeServer) restoreJob(source, snap, target string) string {
	p.t.Helper()
	return p.must(200, "POST", p.flex+"/"+source+"/backup/restoreJobs",
		`{"snapshotId":"`+snap+`","targetDeploymentItemName":"`+target+`","targetProjectId":"`+p.g+`"}`)["id"].(string)
}

func (p *planeServer) job(source, id string) map[string]any {
	return p.must(200, "GET", p.flex+"/"+source+"/backup/restoreJobs/"+id, "")
}

// state is every database's collections: each document as raw BSON in
// _id order, and each index as its raw spec without "ns" and "v".
type state map[string][]string

func dump(t *testing.T, c *mongo.Client) state {
	t.Helper()
	st, err := tryDump(c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tryDump is dump for a cluster a restore may swap under it (a swap ends
// open cursors).
func tryDump(c *mongo.Client) (state, error) {
	ctx := context.Background()
	st := state{}
	dbs, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	for _, db := range dbs {
		if db == "admin" || db == "local" || db == "config" {
			continue
		}
		colls, err := c.Database(db).ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, err
		}
		for _, coll := range colls {
			cl := c.Database(db).Collection(coll)
			cur, err := cl.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
			if err != nil {
				return nil, err
			}
			var docs []string
			for cur.Next(ctx) {
				docs = append(docs, string(cur.Current))
			}
			err = cur.Err()
			cur.Close(ctx)
			if err != nil {
				return nil, err
			}
			st[db+"."+coll] = docs
			ic, err := cl.Indexes().List(ctx)
			if err != nil {
				return nil, err
			}
			var idx []string
			for ic.Next(ctx) {
				var spec bson.D
				if err := bson.Unmarshal(ic.Current, &spec); err != nil {
					ic.Close(ctx)
					return nil, err
				}
				spec = slices.DeleteFunc(spec, func(e bson.E) bool { return e.Key == "ns" || e.Key == "v" })
				b, _ := bson.MarshalExtJSON(spec, true, false)
				idx = append(idx, string(b))
			}
			err = ic.Err()
			ic.Close(ctx)
			if err != nil {
				return nil, err
			}
			slices.Sort(idx)
			st[db+"."+coll+" indexes"] = idx
		}
	}
	return st, nil
}

func sameState(t *testing.T, what string, got, want state) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: collections %v, want %v", what, keys(got), keys(want))
	}
	for k, w := range want {
		if g := got[k]; !slices.Equal(g, w) {
			t.Errorf("%s: %s holds %d entries, want %d (byte-identical)", what, k, len(g), len(w))
		}
	}
}

func keys(s state) []string {
	var ks []string
	for k := range s {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// seedData writes documents of many BSON types and two indexes.
func seedData(t *testing.T, c *mongo.Client, db string, n int) {
	t.Helper()
	ctx := context.Background()
	coll := c.Database(db).Collection("people")
	var docs []any
	for i := range n {
		docs = append(docs, bson.D{
			{Key: "_id", Value: fmt.Sprintf("%s-%04d", db, i)},
			{Key: "name", Value: fmt.Sprintf("person %d", i)},
			{Key: "n", Value: int32(i)}, {Key: "big", Value: int64(i) << 40}, {Key: "f", Value: float64(i) / 3},
			{Key: "ok", Value: i%2 == 0}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(i)*1000, 0))},
			{Key: "oid", Value: bson.NewObjectID()}, {Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{byte(i), 1, 2}}},
			{Key: "tags", Value: bson.A{"a", int32(i), bson.D{{Key: "x", Value: nil}}}},
			{Key: "sub", Value: bson.D{{Key: "deep", Value: bson.D{{Key: "k", Value: "v"}}}}},
		})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "n", Value: -1}, {Key: "ok", Value: 1}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Database(db).Collection("empty").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
}

// TestDataPlaneSnapshotRestoreDownload drives the data plane through the
// public API with the official driver: a cluster is a MongoDB endpoint
// from IDLE on; a drill snapshot captures its data; writes after it are
// not restored; a restore into another cluster and into the same one
// leaves exactly the snapshot's documents (byte for byte) and indexes;
// the target refuses writes while the restore is RUNNING; the download is
// mongodump's layout, parsed with the bson package, and loads into
// another cluster through its endpoint (Range too); an injected fault
// leaves the target's data whole; a restart serves the same data on the
// same port; a delete closes the endpoint and removes the data.
func TestDataPlaneSnapshotRestoreDownload(t *testing.T) {
	dir := t.TempDir()
	p := startPlane(t, dir)
	p.g = p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"data"}`)["id"].(string)
	p.must(201, "POST", "/api/atlas/v2/groups/"+p.g+"/databaseUsers", dbUserBody)
	p.flex = "/api/atlas/v2/groups/" + p.g + "/flexClusters"
	ctx := context.Background()

	src, srcURI := p.cluster("src")
	dst, dstURI := p.cluster("dst")
	seedData(t, src, "app", 200)
	seedData(t, src, "crm", 20)
	seedData(t, dst, "old", 5)
	want := dump(t, src)
	snap := p.snapshot("src")
	if _, err := src.Database("app").Collection("people").InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}, {Key: "name", Value: "late"}}); err != nil {
		t.Fatal(err)
	}
	seedData(t, src, "later", 3)

	// Into another cluster: RUNNING refuses writes, reads go on.
	job := p.restoreJob("src", snap, "dst")
	p.await("restore into dst applied, writes refused", func() bool {
		_, err := dst.Database("old").Collection("people").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
		return err != nil && sameStateQuiet(dst, want)
	})
	if st := p.job("src", job)["status"]; st != "RUNNING" {
		t.Fatalf("restore job %v while fenced, want RUNNING", st)
	}
	p.must(200, "POST", "/_flexd/clock:advance", `{"by":"1h"}`)
	p.await("restore COMPLETED", func() bool { return p.job("src", job)["status"] == "COMPLETED" })
	sameState(t, "dst after restore", dump(t, dst), want)
	if _, err := dst.Database("app").Collection("people").InsertOne(ctx, bson.D{{Key: "_id", Value: "new"}, {Key: "name", Value: "n"}}); err != nil {
		t.Fatalf("write after the restore completed: %v", err)
	}

	// Into the same cluster: the writes after the snapshot are gone.
	job = p.restoreJob("src", snap, "src")
	p.await("restore into src applied", func() bool { return sameStateQuiet(src, want) })
	p.must(200, "POST", "/_flexd/clock:advance", `{"by":"1h"}`)
	p.await("restore COMPLETED", func() bool { return p.job("src", job)["status"] == "COMPLETED" })
	sameState(t, "src after restore into itself", dump(t, src), want)

	// An injected fault fails the restore and leaves dst's data whole.
	before := dump(t, dst)
	p.must(201, "POST", "/_flexd/groups/"+p.g+"/flexClusters/dst/faults", `{"operation":"restore","count":1}`)
	job = p.restoreJob("src", snap, "dst")
	p.await("faulted restore FAILED", func() bool { return p.job("src", job)["status"] == "FAILED" })
	sameState(t, "dst after a failed restore", dump(t, dst), before)

	// The download: mongodump's layout and flexd's manifest.
	link := p.must(200, "POST", p.flex+"/src/backup/download", `{"snapshotId":"`+snap+`"}`)["snapshotUrl"].(string)
	var body []byte
	p.await("download link", func() bool {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200
	})
	checkDump(t, body, want)
	// The download loads into another flexd cluster through its endpoint,
	// with the driver (mongorestore's path), and holds the same data.
	third, _ := p.cluster("third")
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mongodump.Load(ctx, third, zr); err != nil {
		t.Fatalf("load the download into another cluster: %v", err)
	}
	sameState(t, "a cluster loaded from the download", dump(t, third), want)
	// Range: the tail of the same bytes.
	req, _ := http.NewRequest("GET", link, nil)
	req.Header.Set("Range", "bytes=100-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(tail, body[100:]) {
		t.Fatalf("Range bytes=100-: %d, %d bytes, want 206 and %d", resp.StatusCode, len(tail), len(body)-100)
	}

	// A restart serves the same data on the same port, and a restore
	// RUNNING across it keeps its target refusing writes.
	job = p.restoreJob("src", snap, "dst")
	p.await("restore into dst applied, writes refused", func() bool {
		_, err := dst.Database("old").Collection("people").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
		return err != nil && sameStateQuiet(dst, want)
	})
	p.s.stop(t)
	stopped, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := src.Database("app").Collection("people").CountDocuments(stopped, bson.D{}); err == nil {
		t.Fatal("the endpoint still answers after flexd stopped")
	}
	p.s = start(t, dir, map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_RESTORE_TIME": "1h", "FLEXD_CLUSTER_PORTS": testClusterPorts()})
	got := p.must(200, "GET", p.flex+"/src", "")["connectionStrings"].(map[string]any)["standard"]
	if got != srcURI {
		t.Errorf("after a restart src is at %v, want %s", got, srcURI)
	}
	sameState(t, "src after restart", dump(t, connect(t, srcURI)), want)
	dst = connect(t, dstURI)
	if _, err := dst.Database("app").Collection("people").InsertOne(ctx, bson.D{{Key: "x", Value: 2}}); err == nil {
		t.Error("a write into the target of a RUNNING restore succeeded after a restart")
	}
	// A manual clock starts again at the real time: the restore's end lies
	// as far ahead as the advances before the restart took the old clock.
	p.must(200, "POST", "/_flexd/clock:advance", `{"by":"6h"}`)
	p.await("restore COMPLETED after the restart", func() bool { return p.job("src", job)["status"] == "COMPLETED" })
	sameState(t, "dst after a restore across a restart", dump(t, dst), want)
	if _, err := dst.Database("app").Collection("people").InsertOne(ctx, bson.D{{Key: "x", Value: 3}}); err != nil {
		t.Errorf("write after the restore completed: %v", err)
	}

	// A delete closes the endpoint and removes the data.
	p.must(204, "DELETE", p.flex+"/dst", "")
	p.await("dst gone", func() bool {
		code, _ := do(t, "GET", p.s.base+p.flex+"/dst", "")
		return code == 404
	})
	// Its data goes once the delete has committed.
	p.await("dst's data removed", func() bool {
		entries, _ := os.ReadDir(dir + "/clusters")
		entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return !e.IsDir() }) // the lock file
		return len(entries) == 2                                                             // src and third
	})
	gone, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := connect(t, dstURI).Database("app").Collection("people").CountDocuments(gone, bson.D{}); err == nil {
		t.Error("dst's endpoint still answers after its delete")
	}
}

// sameStateQuiet tells whether c holds want; an error (a cursor a swap
// ended) is a no.
func sameStateQuiet(c *mongo.Client, want state) bool {
	got, err := tryDump(c)
	if err != nil || len(got) != len(want) {
		return false
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			return false
		}
	}
	return true
}

// checkDump extracts a download and parses every .bson file with the bson
// package: the documents are the snapshot's, and every collection has its
// metadata.json with its indexes.
func checkDump(t *testing.T, tgz []byte, want state) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string][]string{}
	meta := map[string]bool{}
	manifest := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		db, file := path.Split(h.Name)
		db = strings.TrimSuffix(db, "/")
		switch {
		case h.Name == "flexd-manifest.json":
			manifest = json.Valid(b)
		case strings.HasSuffix(file, ".metadata.json"):
			var m struct{ Indexes []any }
			if err := json.Unmarshal(b, &m); err != nil || len(m.Indexes) == 0 {
				t.Errorf("%s: %v %s", h.Name, err, b)
			}
			meta[db+"."+strings.TrimSuffix(file, ".metadata.json")] = true
		case strings.HasSuffix(file, ".bson"):
			var docs []string
			for r := bytes.NewReader(b); r.Len() > 0; {
				raw, err := bson.ReadDocument(r)
				if err != nil || raw.Validate() != nil {
					t.Fatalf("%s: not BSON: %v", h.Name, err)
				}
				docs = append(docs, string(raw))
			}
			got[db+"."+strings.TrimSuffix(file, ".bson")] = docs
		}
	}
	if !manifest {
		t.Error("no flexd-manifest.json in the download")
	}
	for k, w := range want {
		if strings.HasSuffix(k, " indexes") {
			continue
		}
		g := slices.Clone(got[k])
		slices.Sort(g)
		w = slices.Clone(w)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("download %s: %d documents, want %d byte-identical", k, len(g), len(w))
		}
		if !meta[k] {
			t.Errorf("download %s: no metadata.json", k)
		}
	}
}

// TestDataPlaneBlobs: a corrupt artifact fails the restore that needs it
// (FAILED with a reason, the target's data whole) and is never downloaded;
// a missing one likewise; retention deletes the blobs of the snapshots it
// drops; a restart sweeps blobs no snapshot names and the data of clusters
// that are gone.
func TestDataPlaneBlobs(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0", "FLEXD_RESTORE_TIME": "0",
		"FLEXD_SNAPSHOT_RETENTION": "2", "FLEXD_CLUSTER_PORTS": testClusterPorts()}
	p := &planeServer{t: t, s: start(t, dir, env)}
	p.g = p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"blobs"}`)["id"].(string)
	p.must(201, "POST", "/api/atlas/v2/groups/"+p.g+"/databaseUsers", dbUserBody)
	p.flex = "/api/atlas/v2/groups/" + p.g + "/flexClusters"
	src, _ := p.cluster("src")
	dst, _ := p.cluster("dst")
	seedData(t, src, "app", 50)
	seedData(t, dst, "old", 5)
	srcID := p.must(200, "GET", p.flex+"/src", "")["id"].(string)
	blob := func(snap string) string { return dir + "/blobs/snapshots/" + srcID + "/" + snap + ".tar" }
	s1 := p.snapshot("src")
	s2 := p.snapshot("src")
	before := dump(t, dst)

	// Corrupt: one byte flipped in the middle.
	b, err := os.ReadFile(blob(s1))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(blob(s1), b, 0o600); err != nil {
		t.Fatal(err)
	}
	job := p.restoreJob("src", s1, "dst")
	p.await("restore of a corrupt artifact FAILED", func() bool { return p.job("src", job)["status"] == "FAILED" })
	reason := p.must(200, "GET", "/_flexd/groups/"+p.g+"/flexClusters/src/backup/restoreJobs/"+job, "")["failureReason"]
	if r, _ := reason.(string); !strings.Contains(r, "checksum") {
		t.Errorf("failureReason %v, want it to name the checksum", reason)
	}
	sameState(t, "dst after a corrupt restore", dump(t, dst), before)
	link := p.must(200, "POST", p.flex+"/src/backup/download", `{"snapshotId":"`+s1+`"}`)["snapshotUrl"].(string)
	if resp, err := http.Get(link); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 404 {
		t.Errorf("download of a corrupt artifact = %d, want 404", resp.StatusCode)
	}

	// Missing.
	if err := os.Remove(blob(s2)); err != nil {
		t.Fatal(err)
	}
	job = p.restoreJob("src", s2, "dst")
	p.await("restore of a missing artifact FAILED", func() bool { return p.job("src", job)["status"] == "FAILED" })
	sameState(t, "dst after a restore of a missing artifact", dump(t, dst), before)

	// Retention keeps 2: a third and a fourth snapshot push s1 and s2 out
	// (the download link of s1 has to expire first).
	p.must(200, "POST", "/_flexd/clock:advance", `{"by":"5h"}`)
	s3 := p.snapshot("src")
	p.snapshot("src")
	p.await("pruned blobs deleted", func() bool {
		_, err := os.Stat(blob(s1))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(blob(s3)); err != nil {
		t.Errorf("kept snapshot's blob: %v", err)
	}

	// A restart sweeps strays.
	p.s.stop(t)
	stray := dir + "/blobs/snapshots/" + srcID + "/000000000000000000000000.tar"
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir+"/clusters/000000000000000000000000", 0o700); err != nil {
		t.Fatal(err)
	}
	p.s = start(t, dir, env)
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("stray blob after restart: %v", err)
	}
	if _, err := os.Stat(dir + "/clusters/000000000000000000000000"); !os.IsNotExist(err) {
		t.Errorf("stray cluster data after restart: %v", err)
	}
	if _, err := os.Stat(blob(s3)); err != nil {
		t.Errorf("a kept snapshot's blob after restart: %v", err)
	}
}

// TestDataPlaneOneProcessPerDataDir: with the store shared
// (--read-cache=false lets two processes open one SQLite file), a second
// flexd on the same data directory refuses to start rather than serve the
// same clusters' data files a second time. Before, it started and served
// them behind fences of its own.
func TestDataPlaneOneProcessPerDataDir(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FLEXD_READ_CACHE": "false", "FLEXD_CLUSTER_PORTS": testClusterPorts()}
	start(t, dir, env)
	full := map[string]string{"FLEXD_LOG_FORMAT": "json", "FLEXD_LISTEN": "127.0.0.1:0", "FLEXD_DATA_DIR": dir, "FLEXD_AUTH": "off"}
	for k, v := range env {
		full[k] = v
	}
	// Refused at start; a flexd that started anyway serves until ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := Run(ctx, []string{"flexd", "serve"}, func(k string) string { return full[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "served by another flexd process") {
		t.Fatalf("a second flexd on the data directory: %v, want it refused", err)
	}
}
