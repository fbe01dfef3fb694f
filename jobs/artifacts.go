package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/flexd/flexd"
)

// Artifacts is what a snapshot captures of a cluster and what a restore
// writes into one. Today a cluster holds only its configuration; the data
// plane plugs real data in behind this one interface.
type Artifacts interface {
	// Capture reads the cluster's contents into an artifact's format and
	// content (the caller adds the checksum and stores it).
	Capture(ctx context.Context, c *flexd.FlexCluster) (format string, content []byte, err error)
	// Apply writes an artifact's contents into target, outside any
	// transaction: with real data it is a long copy, done again whole when
	// a restore resumes after a crash, so it must overwrite, never add. It
	// returns the change to target's own fields, which the caller makes to
	// the target as it then is, in the unit of work that records the
	// application: a restore is applied once, crash or not.
	Apply(ctx context.Context, a *flexd.Artifact, target *flexd.FlexCluster) (change func(*flexd.FlexCluster), err error)
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

// Apply sets target's tags to the captured ones: a configuration has no
// contents to copy, only fields to change.
func (ConfigArtifacts) Apply(_ context.Context, a *flexd.Artifact, _ *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	if a.Format != configFormat {
		return nil, fmt.Errorf("artifact format %q is not %s", a.Format, configFormat)
	}
	var cfg clusterConfig
	if err := json.Unmarshal(a.Content, &cfg); err != nil {
		return nil, fmt.Errorf("decode artifact: %w", err)
	}
	return func(c *flexd.FlexCluster) { c.Tags = cfg.Tags }, nil
}

// checksum is the hex SHA-256 an artifact is stored and verified with.
func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
