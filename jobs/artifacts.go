package jobs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// Artifacts is what a snapshot captures of a cluster and what a restore
// writes into one. Today a cluster holds only its configuration; the data
// plane plugs real data in behind this one interface.
type Artifacts interface {
	// Capture reads the cluster's contents into an artifact's format and
	// content (the caller adds the checksum and stores it).
	Capture(ctx context.Context, c *flexd.FlexCluster) (format string, content []byte, err error)
	// Apply writes an artifact into target. Changes to target's own fields
	// are stored by the caller in the same transaction that records the
	// application, so a restore is applied once, crash or not.
	Apply(ctx context.Context, a *flexd.Artifact, target *flexd.FlexCluster) error
}

// configFormat names ConfigArtifacts' content.
const configFormat = "flexd.cluster-config.v1+json"

// clusterConfig is the configuration a snapshot captures.
type clusterConfig struct {
	Name                         string      `json:"name"`
	ProviderName                 string      `json:"providerName"`
	RegionName                   string      `json:"regionName"`
	MongoDBVersion               string      `json:"mongoDBVersion"`
	Tags                         []flexd.Tag `json:"tags"`
	TerminationProtectionEnabled bool        `json:"terminationProtectionEnabled"`
}

// ConfigArtifacts captures a cluster's configuration as JSON and restores
// its tags: the part of a configuration a restore may change (name,
// provider and region are the target's own).
type ConfigArtifacts struct{}

// Capture encodes the cluster's configuration.
func (ConfigArtifacts) Capture(_ context.Context, c *flexd.FlexCluster) (string, []byte, error) {
	tags := c.Tags
	if tags == nil {
		tags = []flexd.Tag{}
	}
	b, err := json.MarshalIndent(clusterConfig{
		Name: c.Name, ProviderName: c.BackingProviderName, RegionName: c.RegionName,
		MongoDBVersion: c.MongoDBVersion, Tags: tags, TerminationProtectionEnabled: c.TerminationProtectionEnabled,
	}, "", "  ")
	return configFormat, b, err
}

// Apply sets target's tags to the captured ones.
func (ConfigArtifacts) Apply(_ context.Context, a *flexd.Artifact, target *flexd.FlexCluster) error {
	if a.Format != configFormat {
		return fmt.Errorf("artifact format %q is not %s", a.Format, configFormat)
	}
	var cfg clusterConfig
	if err := json.Unmarshal(a.Content, &cfg); err != nil {
		return fmt.Errorf("decode artifact: %w", err)
	}
	target.Tags = cfg.Tags
	return nil
}

// checksum is the hex SHA-256 an artifact is stored and verified with.
func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

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
