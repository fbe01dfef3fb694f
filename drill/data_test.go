package drill

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongodump"
)

// TestDataMismatchReported: a crafted snapshot and target that differ in
// each way a restore can go wrong (a count, the content at an equal count,
// a collection on one side only) fail the drill, name every collection in
// the text, the JSON and the JUnit case "data matches the snapshot", and a
// matching collection stays a match.
func TestDataMismatchReported(t *testing.T) {
	snapshot := []flexd.CollectionSum{
		{Database: "app", Collection: "people", Documents: 3, Checksum: "aaaa"},
		{Database: "app", Collection: "orders", Documents: 2, Checksum: "bbbb"},
		{Database: "crm", Collection: "leads", Documents: 4, Checksum: "cccc"},
		{Database: "crm", Collection: "gone", Documents: 1, Checksum: "dddd"},
	}
	target := []flexd.CollectionSum{
		{Database: "crm", Collection: "leads", Documents: 4, Checksum: "cccc"},
		{Database: "app", Collection: "people", Documents: 3, Checksum: "ffff"},
		{Database: "app", Collection: "orders", Documents: 1, Checksum: "bbbb"},
		{Database: "new", Collection: "extra", Documents: 7, Checksum: "eeee"},
	}
	checks := flexd.CompareCollections(snapshot, target)
	var got []string
	for _, c := range checks {
		got = append(got, c.Database+"."+c.Collection+":"+map[bool]string{true: "match", false: "differ"}[c.Match]+":"+c.Missing)
	}
	want := "app.orders:differ: app.people:differ: crm.gone:differ:target crm.leads:match: new.extra:differ:snapshot"
	if strings.Join(got, " ") != want {
		t.Fatalf("CompareCollections = %v, want %s", got, want)
	}

	r := &Result{RestoreReport: flexd.RestoreReport{ProjectID: "p", ClusterName: "src", TargetProjectID: "p", TargetClusterName: "dst",
		RestoreJobID: "job", Status: flexd.StatusCompleted, Collections: checks}}
	r.setThresholds(Plan{})
	r.Data = DataCheck{Status: DataMismatch}
	var bad []string
	for _, c := range checks {
		if !c.Match {
			bad = append(bad, describeMismatch(c))
		}
	}
	r.Data.Reason = strings.Join(bad, "; ")
	for _, b := range bad {
		r.Failures = append(r.Failures, "data: "+b)
	}
	r.judge()
	if r.Passed || len(r.Failures) != 4 {
		t.Fatalf("verdict %v, failures %q", r.Passed, r.Failures)
	}

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(strings.Fields(text.String()), " ")
	for _, want := range []string{"Restore drill FAILED", "Data check MISMATCH",
		"app.orders 2 1 bbbb bbbb DIFFERS", "app.people 3 3 aaaa ffff DIFFERS", "crm.gone 1 - dddd - MISSING in target",
		"crm.leads 4 4 cccc cccc match", "new.extra - 7 - eeee MISSING in snapshot",
		"FAIL: data: app.orders holds 2 documents in the snapshot, 1 in the target",
		"FAIL: data: app.people holds 3 documents on both sides, with different content",
		"FAIL: data: crm.gone (1 documents) is in the snapshot, not in the target",
		"FAIL: data: new.extra (7 documents) is in the target, not in the snapshot"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Data.Status != DataMismatch || len(back.Collections) != 5 || back.Collections[2].Missing != flexd.MissingInTarget ||
		back.Collections[3].SnapshotChecksum != "cccc" || !back.Collections[3].Match || back.Passed {
		t.Errorf("JSON:\n%s", js.String())
	}

	var junit bytes.Buffer
	if err := WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Suites[0].Cases[3]
	if doc.Failures != 1 || c.Name != "data matches the snapshot" || c.Failure == nil ||
		!strings.Contains(c.Failure.Message, "crm.gone") || !strings.Contains(c.Failure.Message, "new.extra") {
		t.Errorf("JUnit:\n%s", junit.String())
	}
}

// TestRedact: the password leaves any message, wherever it appears.
func TestRedact(t *testing.T) {
	if got := redact("auth as u:s3cret@host failed (s3cret)", "s3cret"); got != "auth as u:***@host failed (***)" {
		t.Errorf("redact = %q", got)
	}
}

// TestSumDownloadOfMongodFiles: a download of mongod's data files, as
// real Atlas gives for a Flex snapshot, gzipped or not, is "no dump"
// (the check is then UNAVAILABLE, not failed or made up); a link not yet
// ready (404) is retried; another status is an error.
func TestSumDownloadOfMongodFiles(t *testing.T) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, name := range []string{"WiredTiger", "collection-0-123.wt", "journal/WiredTigerLog.0000000001"} {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: 3})
		_, _ = tw.Write([]byte("abc"))
	}
	_ = tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/snap.tgz":
			_, _ = w.Write(gz.Bytes())
		case "/snap.tar":
			_, _ = w.Write(raw.Bytes())
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, p := range []string{"/snap.tgz", "/snap.tar"} {
		if _, retry, err := sumDownload(ctx, srv.URL+p); !errors.Is(err, mongodump.ErrNoDump) || retry {
			t.Errorf("%s: retry %v, err %v; want ErrNoDump", p, retry, err)
		}
	}
	if _, retry, err := sumDownload(ctx, srv.URL+"/later"); err == nil || !retry {
		t.Errorf("404: retry %v, err %v", retry, err)
	}
	if _, retry, err := sumDownload(ctx, srv.URL+"/gone"); err == nil || retry || !strings.Contains(err.Error(), "410") {
		t.Errorf("410: retry %v, err %v", retry, err)
	}
}
