package drill

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongodump"
)

// DataCheck is the verdict of the drill's data check: the snapshot's
// collections (counted and checksummed from its download) against the
// target's (read through its endpoint) after the restore.
type DataCheck struct {
	Status DataStatus `json:"status"`
	// Reason says why the check was skipped, unavailable or in error, or
	// what did not match.
	Reason string `json:"reason,omitempty"`
}

// DataStatus is a data check's outcome.
type DataStatus string

const (
	DataMatch       DataStatus = "MATCH"       // every collection matches: counts and checksums
	DataMismatch    DataStatus = "MISMATCH"    // a collection differs or is on one side only: the drill fails
	DataSkipped     DataStatus = "SKIPPED"     // no --db-user, or the restore did not complete
	DataUnavailable DataStatus = "UNAVAILABLE" // the snapshot's download is not mongodump's layout (real Atlas): nothing compared
	DataError       DataStatus = "ERROR"       // the check could not run (download, login, read): the drill fails
)

// checkData compares the snapshot with the target once the restore
// COMPLETED, and records the outcome in r (Collections, Data, Failures).
func checkData(ctx context.Context, api *admin.APIClient, p Plan, r *Result, progress Progress) {
	switch {
	case p.DBUser == "":
		r.Data = DataCheck{Status: DataSkipped, Reason: "no --db-user given"}
		return
	case r.Status != flexd.StatusCompleted:
		r.Data = DataCheck{Status: DataSkipped, Reason: "the restore did not complete"}
		return
	}
	fail := func(err error) {
		msg := redact(err.Error(), p.DBPassword)
		r.Data = DataCheck{Status: DataError, Reason: msg}
		r.Failures = append(r.Failures, "data check: "+msg)
	}

	progress.Step(fmt.Sprintf("reading the data of %s as %s", p.Target, p.DBUser))
	target, err := targetSums(ctx, api, p)
	if err != nil {
		fail(err)
		return
	}
	progress.Step(fmt.Sprintf("downloading snapshot %s of %s", r.SnapshotID, p.Source))
	snapshot, err := snapshotSums(ctx, api, p, r.SnapshotID)
	if errors.Is(err, mongodump.ErrNoDump) {
		var docs int64
		for _, s := range target {
			docs += s.Documents
		}
		r.Data = DataCheck{Status: DataUnavailable, Reason: fmt.Sprintf(
			"the snapshot's download holds no mongodump layout (mongod's data files, as real Atlas gives), so its documents cannot be counted; the target holds %d collections, %d documents", len(target), docs)}
		return
	}
	if err != nil {
		fail(err)
		return
	}
	r.Collections = flexd.CompareCollections(snapshot, target)
	var bad []string
	for _, c := range r.Collections {
		if !c.Match {
			bad = append(bad, describeMismatch(c))
		}
	}
	if len(bad) == 0 {
		r.Data = DataCheck{Status: DataMatch}
		return
	}
	r.Data = DataCheck{Status: DataMismatch, Reason: strings.Join(bad, "; ")}
	for _, b := range bad {
		r.Failures = append(r.Failures, "data: "+b)
	}
}

func describeMismatch(c flexd.CollectionCheck) string {
	ns := c.Database + "." + c.Collection
	switch c.Missing {
	case flexd.MissingInTarget:
		return fmt.Sprintf("%s (%d documents) is in the snapshot, not in the target", ns, c.SnapshotDocuments)
	case flexd.MissingInSnapshot:
		return fmt.Sprintf("%s (%d documents) is in the target, not in the snapshot", ns, c.TargetDocuments)
	case "":
		if c.SnapshotDocuments != c.TargetDocuments {
			return fmt.Sprintf("%s holds %d documents in the snapshot, %d in the target", ns, c.SnapshotDocuments, c.TargetDocuments)
		}
		return fmt.Sprintf("%s holds %d documents on both sides, with different content (checksum %s in the snapshot, %s in the target)",
			ns, c.SnapshotDocuments, short(c.SnapshotChecksum), short(c.TargetChecksum))
	}
	return ns + " differs"
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// redact takes the database password out of a message, whatever carried
// it there.
func redact(msg, password string) string {
	if password == "" {
		return msg
	}
	return strings.ReplaceAll(msg, password, "***")
}

// targetSums reads every collection of the target through the connection
// string the API gives, logged in as --db-user.
func targetSums(ctx context.Context, api *admin.APIClient, p Plan) ([]flexd.CollectionSum, error) {
	c, _, err := api.FlexClustersApi.GetFlexCluster(ctx, p.targetProject(), p.Target).Execute()
	if err != nil {
		return nil, fmt.Errorf("read cluster %s: %w", p.Target, apiError(err))
	}
	cs := c.GetConnectionStrings()
	uri := cs.GetStandard()
	if uri == "" {
		uri = cs.GetStandardSrv()
	}
	if uri == "" {
		return nil, fmt.Errorf("cluster %s has no connection string", p.Target)
	}
	opts := options.Client().ApplyURI(uri).
		SetAuth(options.Credential{Username: p.DBUser, Password: p.DBPassword, AuthSource: "admin"}).
		SetServerSelectionTimeout(15 * time.Second).SetConnectTimeout(15 * time.Second).SetAppName("flexd drill")
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w", p.Target, uri, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	}()
	if err := client.Ping(ctx, nil); err != nil {
		return nil, fmt.Errorf("connect to %s (%s) as %s: %w", p.Target, uri, p.DBUser, err)
	}
	sums, err := mongodump.SumDeployment(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Target, err)
	}
	return sums, nil
}

// snapshotSums downloads the snapshot through the API's download link and
// counts and checksums its collections as it streams past.
func snapshotSums(ctx context.Context, api *admin.APIClient, p Plan, snapshotID string) ([]flexd.CollectionSum, error) {
	job, _, err := api.FlexSnapshotsApi.DownloadFlexBackup(ctx, p.Source, p.ProjectID,
		admin.NewFlexBackupSnapshotDownloadCreate20241113(snapshotID)).Execute()
	if err != nil {
		return nil, fmt.Errorf("ask for the download of snapshot %s: %w", snapshotID, apiError(err))
	}
	deadline := time.Now().Add(p.Timeout)
	for {
		link := job.GetSnapshotUrl()
		if link != "" {
			sums, retry, err := sumDownload(ctx, link)
			if !retry || time.Now().After(deadline) {
				return sums, err
			}
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("download job %s gave no snapshotUrl within %s (--timeout)", job.GetId(), p.Timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(p.PollInterval):
		}
		if link == "" {
			job, _, err = api.FlexRestoreJobsApi.GetFlexBackupRestoreJob(ctx, p.ProjectID, p.Source, job.GetId()).Execute()
			if err != nil {
				return nil, fmt.Errorf("follow download job: %w", apiError(err))
			}
		}
	}
}

// downloadClient fetches a snapshot's download: no limit on the whole
// transfer (it may be large), but a server that does not answer must not
// hang a CI job.
var downloadClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t}
}()

// sumDownload reads the archive at link (a .tgz, or a plain tar); retry
// says the link answered 404 and may work in a moment (a download being
// prepared).
func sumDownload(ctx context.Context, link string) (sums []flexd.CollectionSum, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, false, fmt.Errorf("download link: %w", err)
	}
	resp, err := downloadClient.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("download the snapshot: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode == http.StatusNotFound, fmt.Errorf("download the snapshot: %s", resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, fmt.Errorf("download the snapshot: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	sums, err = mongodump.SumArchive(r)
	if err != nil && !errors.Is(err, mongodump.ErrNoDump) {
		err = fmt.Errorf("read the snapshot's download: %w", err)
	}
	return sums, false, err
}
