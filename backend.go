package flexd

import (
	"context"
	"log/slog"
	"time"
)

// A Flex cluster's backend is where its data lives: the embedded FerretDB
// behind flexd's wire front (the default), or an existing MongoDB
// deployment a team attaches to the cluster record
// (PUT /_flexd/groups/{groupId}/flexClusters/{name}/backend), so that
// Atlas's backup API (snapshots, restores, downloads) works over it.

// BackendKind says which backend a cluster has.
type BackendKind string

// Backend kinds.
const (
	BackendEmbedded BackendKind = "embedded"
	BackendExternal BackendKind = "external"
)

// ClusterBackend is an external deployment attached to a cluster. URI is
// a secret (it usually carries a password): the store seals it, and it is
// never shown, logged or written into an error; Hosts and
// ConnectionString are what may be shown.
type ClusterBackend struct {
	ClusterID string
	// URI is the connection string as given, credentials included.
	URI string
	// Hosts is the URI's host list ("h1:27017,h2:27017") without
	// credentials.
	Hosts string
	// ConnectionString is the URI without credentials or secret options:
	// the attached cluster's connectionStrings.standard.
	ConnectionString string
	AttachedAt       time.Time
}

// String names the backend without its URI, so that formatting one by
// mistake leaks nothing.
func (b ClusterBackend) String() string {
	return "external backend " + b.Hosts + " of cluster " + b.ClusterID
}

// GoString is String, for %#v.
func (b ClusterBackend) GoString() string { return b.String() }

// LogValue logs the backend without its URI, whatever the log handler.
func (b ClusterBackend) LogValue() slog.Value {
	return slog.GroupValue(slog.String("cluster", b.ClusterID), slog.String("hosts", b.Hosts))
}

// BackendView is what GET, PUT and DELETE …/backend answer: never the URI.
type BackendView struct {
	Kind             BackendKind
	Hosts            string
	ConnectionString string
	AttachedAt       time.Time
}

// BackendService attaches external deployments to Flex clusters and
// detaches them. Attaching or detaching is allowed while the cluster is
// IDLE only, so no snapshot or restore job meets a backend that changes
// under it.
type BackendService interface {
	GetBackend(ctx context.Context, groupID, name string) (*BackendView, error)
	// AttachBackend checks uri (a mongodb:// or mongodb+srv:// connection
	// string) by connecting to the deployment, then makes it the cluster's
	// backend, replacing any attached before.
	AttachBackend(ctx context.Context, groupID, name, uri string) (*BackendView, error)
	// DetachBackend makes the cluster embedded again: it serves the data it
	// held before it was attached. Detaching an embedded cluster changes
	// nothing.
	DetachBackend(ctx context.Context, groupID, name string) (*BackendView, error)
}

// Backends is what attaching needs of the data plane
// (dataplane.DataArtifacts).
type Backends interface {
	// CheckBackend parses uri and connects to the deployment within a few
	// seconds, and returns the backend to store (without ClusterID). Its
	// error says what is wrong without repeating the URI's credentials.
	CheckBackend(ctx context.Context, uri string) (*ClusterBackend, error)
	// Attached tells that the cluster's backend is now external (after the
	// commit): the embedded endpoint closes; its data stays for a detach.
	Attached(clusterID string)
	// ServeEmbedded opens the cluster's embedded endpoint again (before a
	// detach commits) and returns the change to its port and connection
	// string.
	ServeEmbedded(ctx context.Context, c *FlexCluster) (func(*FlexCluster), error)
	// StopEmbedded closes what ServeEmbedded opened when the detach did not
	// commit.
	StopEmbedded(clusterID string)
}
