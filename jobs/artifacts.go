package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/flexd/flexd"
)

// Artifacts is what a snapshot captures of a cluster and what a restore
// writes into one, and the cluster's endpoint where there is one:
// ConfigArtifacts (configuration only, no endpoint) or
// dataplane.DataArtifacts (real data in the blob store, a live MongoDB
// endpoint).
type Artifacts interface {
	// Capture reads the cluster's contents into the artifact of snapshot
	// snapshotID, checksum included (the caller stores it).
	Capture(ctx context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Artifact, error)
	// Apply writes an artifact's contents into target for restore job
	// jobID, outside any transaction: with real data it is a long copy,
	// done again whole when a restore resumes after a crash, so it must
	// overwrite, never add. It returns the change to target's own fields,
	// which the caller makes to the target as it then is, in the unit of
	// work that records the application: a restore is applied once, crash
	// or not.
	Apply(ctx context.Context, jobID string, a *flexd.Artifact, target *flexd.FlexCluster) (change func(*flexd.FlexCluster), err error)
	// Serve opens the endpoint of a cluster that is becoming IDLE and
	// returns the change to its fields (port, connection string), made in
	// the same unit of work; nil when nothing changes.
	Serve(ctx context.Context, c *flexd.FlexCluster) (change func(*flexd.FlexCluster), err error)
	// Released tells that restore job jobID into target has ended (after
	// its unit of work committed): the target takes writes again.
	Released(jobID, targetID string)
	// Deleted tells that a cluster and its snapshots are gone (after the
	// commit): its endpoint closes and its data and artifacts go.
	Deleted(clusterID string)
	// Dropped tells that a snapshot's artifact is gone from the store
	// (after the commit), or was never stored: its blob goes.
	Dropped(a *flexd.Artifact)
	// Open opens a blob artifact's download, verified against its
	// recorded size and checksum (a configuration-only artifact, in the
	// store, the engine archives itself).
	Open(ctx context.Context, j *flexd.RestoreJob, sn *flexd.Snapshot, a *flexd.Artifact) (io.ReadSeekCloser, error)
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
func (ConfigArtifacts) Capture(_ context.Context, c *flexd.FlexCluster, snapshotID string) (*flexd.Artifact, error) {
	tags := c.Tags
	if tags == nil {
		tags = []flexd.Tag{}
	}
	b, err := json.MarshalIndent(clusterConfig{
		Name: c.Name, ProviderName: c.BackingProviderName, RegionName: c.RegionName,
		MongoDBVersion: c.MongoDBVersion, Tags: tags, TerminationProtectionEnabled: c.TerminationProtectionEnabled,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &flexd.Artifact{SnapshotID: snapshotID, Format: configFormat, Content: b, Checksum: checksum(b)}, nil
}

// Apply sets target's tags to the captured ones: a configuration has no
// contents to copy, only fields to change.
func (ConfigArtifacts) Apply(_ context.Context, _ string, a *flexd.Artifact, _ *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	if a.Format != configFormat {
		return nil, fmt.Errorf("artifact format %q is not %s", a.Format, configFormat)
	}
	var cfg clusterConfig
	if err := json.Unmarshal(a.Content, &cfg); err != nil {
		return nil, fmt.Errorf("decode artifact: %w", err)
	}
	return func(c *flexd.FlexCluster) { c.Tags = cfg.Tags }, nil
}

// Serve does nothing: a configuration has no endpoint.
func (ConfigArtifacts) Serve(context.Context, *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	return nil, nil
}

// Released does nothing.
func (ConfigArtifacts) Released(string, string) {}

// Deleted does nothing: the store deleted everything.
func (ConfigArtifacts) Deleted(string) {}

// Dropped does nothing: the artifact lived in the store.
func (ConfigArtifacts) Dropped(*flexd.Artifact) {}

// Open builds the download archive: the configuration and a manifest.
func (ConfigArtifacts) Open(_ context.Context, j *flexd.RestoreJob, sn *flexd.Snapshot, a *flexd.Artifact) (io.ReadSeekCloser, error) {
	return openConfigArchive(j, sn, a)
}

// openConfigArchive builds a configuration-only artifact's archive.
func openConfigArchive(j *flexd.RestoreJob, sn *flexd.Snapshot, a *flexd.Artifact) (io.ReadSeekCloser, error) {
	if a.Checksum != checksum(a.Content) {
		return nil, fmt.Errorf("artifact of snapshot %s: %w", a.SnapshotID, flexd.ErrBlobCorrupt)
	}
	b, err := archive(j, sn, a)
	if err != nil {
		return nil, err
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// checksum is the hex SHA-256 an artifact is stored and verified with.
func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
