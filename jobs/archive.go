package jobs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"time"

	"github.com/flexd/flexd"
)

// manifest describes a download archive's artifact.
type manifest struct {
	SnapshotID     string    `json:"snapshotId"`
	ClusterName    string    `json:"clusterName"`
	GroupID        string    `json:"groupId"`
	MongoDBVersion string    `json:"mongoDBVersion"`
	ScheduledTime  time.Time `json:"scheduledTime"`
	FinishTime     time.Time `json:"finishTime"`
	Format         string    `json:"format"`
	Artifact       string    `json:"artifact"`
	Size           int       `json:"size"`
	SHA256         string    `json:"sha256"`
	RestoreJobID   string    `json:"restoreJobId"`
	ExpirationDate time.Time `json:"expirationDate"`
}

// archive builds the .tgz a download link serves: the artifact and a
// manifest.json describing it, both stamped with the snapshot's finish time
// so the same download always has the same bytes. The file times come from
// the real clock, though: with a manual clock moved ahead, the finish time
// lies in the future, and tar warns about every file ("time stamp in the
// future"); such files are stamped with the real time instead.
func archive(j *flexd.RestoreJob, sn *flexd.Snapshot, a *flexd.Artifact) ([]byte, error) {
	fileTime := sn.FinishTime
	if now := time.Now(); fileTime.After(now) {
		fileTime = now
	}
	name := "artifact.json"
	m, err := json.MarshalIndent(manifest{
		SnapshotID: sn.ID, ClusterName: sn.ClusterName, GroupID: sn.GroupID, MongoDBVersion: sn.MongoDBVersion,
		ScheduledTime: sn.ScheduledTime, FinishTime: sn.FinishTime, Format: a.Format, Artifact: name,
		Size: len(a.Content), SHA256: a.Checksum, RestoreJobID: j.ID, ExpirationDate: j.ExpirationDate,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		body []byte
	}{{"manifest.json", m}, {name, a.Content}} {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: fileTime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
