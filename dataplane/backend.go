package dataplane

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/mongodump"
)

// An external backend: an existing MongoDB deployment attached to a
// cluster record. Its clients connect to it directly (the cluster's
// connectionStrings.standard is its URI without credentials); flexd
// reaches it through the driver with the URI's credentials to snapshot
// and restore it:
//
//   - a snapshot is a mongodump-layout dump (DataFormat: every
//     collection's documents byte for byte, its options and indexes, and
//     flexd's manifest), gzipped and streamed into the blob store with its
//     size and SHA-256; a download serves it as it is;
//   - a restore checks the artifact whole, then drops every collection
//     of every database but admin, local and config, and loads the
//     dump (collections with their options, documents in batches,
//     indexes). A snapshot of an embedded cluster (FilesFormat) is restored
//     through its download, built once.
//
// What is promised is what a cursor scan gives, not one instant: see
// README, "Attaching an existing MongoDB".

// BackendLookup returns the external deployment attached to a cluster, or
// an error wrapping flexd.ErrNotFound when it has the embedded backend.
type BackendLookup func(ctx context.Context, clusterID string) (*flexd.ClusterBackend, error)

// Timeouts of the driver against an external deployment: attaching checks
// it within checkTimeout; snapshots and restores wait up to
// selectTimeout for a server (each command then takes what it takes).
const (
	checkTimeout  = 5 * time.Second
	selectTimeout = 10 * time.Second
)

// safeOptions are the URI options an attached cluster's connection string
// keeps: none of them holds a secret (authMechanismProperties may hold an
// AWS session token, tlsCertificateKeyFilePassword a password).
var safeOptions = map[string]bool{
	"replicaset": true, "tls": true, "ssl": true, "directconnection": true, "authsource": true,
	"authmechanism": true, "readpreference": true, "loadbalanced": true,
}

// parseBackendURI parses uri and returns the backend to store: the URI
// itself, its hosts, and its connection string without credentials. The
// error never repeats the URI.
func parseBackendURI(uri string) (*flexd.ClusterBackend, error) {
	if !strings.HasPrefix(uri, "mongodb://") && !strings.HasPrefix(uri, "mongodb+srv://") {
		return nil, flexd.InvalidBackendURI("it must start with mongodb:// or mongodb+srv://")
	}
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, flexd.InvalidBackendURI(redact(uri, err).Error())
	}
	hosts := cs.RawHosts
	if len(hosts) == 0 {
		hosts = cs.Hosts
	}
	if len(hosts) == 0 {
		return nil, flexd.InvalidBackendURI("it names no host")
	}
	standard := cs.Scheme + "://" + strings.Join(hosts, ",") + "/"
	if _, query, ok := strings.Cut(uri, "?"); ok {
		if q, err := url.ParseQuery(query); err == nil {
			kept := url.Values{}
			for k, v := range q {
				if safeOptions[strings.ToLower(k)] {
					kept[k] = v
				}
			}
			if len(kept) > 0 {
				standard += "?" + kept.Encode()
			}
		}
	}
	return &flexd.ClusterBackend{URI: uri, Hosts: strings.Join(hosts, ","), ConnectionString: standard}, nil
}

// redact rewrites err's message without uri's secrets: the URI itself,
// its user information and its password, and the values of options that
// hold secrets (…Password, …Token, authMechanismProperties), raw or
// unescaped. Every error
// about an external deployment passes through it before it is returned,
// logged or recorded as a failure reason.
func redact(uri string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := []string{uri}
	if rest, ok := strings.CutPrefix(uri, "mongodb://"); ok {
		uri = rest
	} else {
		uri = strings.TrimPrefix(uri, "mongodb+srv://")
	}
	authority, _, _ := strings.Cut(uri, "/")
	authority, _, _ = strings.Cut(authority, "?")
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo := authority[:i]
		secrets = append(secrets, userinfo)
		if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
			secrets = append(secrets, pw)
			if un, err := url.PathUnescape(pw); err == nil && un != "" {
				secrets = append(secrets, un)
			}
		}
	}
	if _, query, ok := strings.Cut(uri, "?"); ok {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			k = strings.ToLower(k)
			if v != "" && (strings.Contains(k, "password") || strings.Contains(k, "token") || k == "authmechanismproperties") {
				secrets = append(secrets, v)
				if un, err := url.QueryUnescape(v); err == nil && un != "" {
					secrets = append(secrets, un)
				}
			}
		}
	}
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "REDACTED")
	}
	return errors.New(msg)
}

// connectExternal connects the driver to b's deployment.
func connectExternal(b *flexd.ClusterBackend, timeout time.Duration) (*mongo.Client, error) {
	c, err := mongo.Connect(options.Client().ApplyURI(b.URI).
		SetServerSelectionTimeout(timeout).SetConnectTimeout(timeout).SetAppName("flexd"))
	if err != nil {
		return nil, redact(b.URI, err)
	}
	return c, nil
}

func disconnect(c *mongo.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Disconnect(ctx)
}

// CheckBackend parses uri and checks, within a few seconds, that the
// deployment answers, accepts the URI's credentials and lets them list its
// databases (what a snapshot starts with).
func (d *DataArtifacts) CheckBackend(ctx context.Context, uri string) (*flexd.ClusterBackend, error) {
	b, err := parseBackendURI(uri)
	if err != nil {
		return nil, err
	}
	c, err := connectExternal(b, checkTimeout)
	if err != nil {
		return nil, flexd.InvalidBackendURI(err.Error())
	}
	defer disconnect(c)
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := c.ListDatabaseNames(ctx, bson.D{}, options.ListDatabases().SetNameOnly(true)); err != nil {
		return nil, flexd.BackendUnreachable(b.Hosts, redact(uri, err).Error())
	}
	return b, nil
}

// Attached closes the embedded endpoint of a cluster now attached; its
// data stays, served again after a detach.
func (d *DataArtifacts) Attached(clusterID string) { d.Plane.Stop(clusterID) }

// ServeEmbedded opens the cluster's embedded endpoint whatever its backend
// (a detach, before it commits).
func (d *DataArtifacts) ServeEmbedded(ctx context.Context, c *flexd.FlexCluster) (func(*flexd.FlexCluster), error) {
	port, err := d.Plane.ServeCluster(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("serve cluster %s: %w", c.Name, err)
	}
	uri, err := d.Plane.ConnectionString(c.ID)
	if err != nil {
		return nil, err
	}
	return func(c *flexd.FlexCluster) { c.Port, c.StandardConnectionString = port, uri }, nil
}

// StopEmbedded closes the embedded endpoint of a cluster whose detach did
// not commit.
func (d *DataArtifacts) StopEmbedded(clusterID string) { d.Plane.Stop(clusterID) }

// backend returns the external deployment of cluster id, nil for the
// embedded backend.
func (d *DataArtifacts) backend(ctx context.Context, id string) (*flexd.ClusterBackend, error) {
	if d.Backend == nil {
		return nil, nil
	}
	b, err := d.Backend(ctx, id)
	if errors.Is(err, flexd.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the backend of cluster %s: %w", id, err)
	}
	return b, nil
}

// ExternalBlobKey is where the artifact of a snapshot of an attached
// cluster lives: the dump itself, gzipped.
func ExternalBlobKey(clusterID, snapshotID string) string {
	return ClusterBlobPrefix(clusterID) + snapshotID + ".tgz"
}

// captureExternal dumps b's deployment into the blob store.
func (d *DataArtifacts) captureExternal(ctx context.Context, c *flexd.FlexCluster, b *flexd.ClusterBackend, snapshotID string) (*flexd.Artifact, error) {
	client, err := connectExternal(b, selectTimeout)
	if err != nil {
		return nil, err
	}
	defer disconnect(client)
	key := ExternalBlobKey(c.ID, snapshotID)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		_, err := mongodump.Dump(ctx, client, zw, mongodump.DumpOptions{TempDir: d.Plane.cfg.TempDir, Source: b.Hosts})
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	size, sum, err := d.Blobs.Put(ctx, key, pr)
	pr.CloseWithError(err)
	if derr := <-done; derr != nil {
		if err == nil {
			d.Blobs.Delete(context.Background(), key)
		}
		return nil, fmt.Errorf("snapshot of the deployment at %s: %w", b.Hosts, redact(b.URI, derr))
	}
	if err != nil {
		return nil, err
	}
	return &flexd.Artifact{SnapshotID: snapshotID, Format: DataFormat, BlobKey: key, Size: size, Checksum: sum}, nil
}

// applyExternal restores artifact a (already checked whole) into b's
// deployment: a FilesFormat artifact through its download (built once),
// a DataFormat one as it is; each is verified again as it is read.
func (d *DataArtifacts) applyExternal(ctx context.Context, a *flexd.Artifact, b *flexd.ClusterBackend) error {
	key, size, sum := a.BlobKey, a.Size, a.Checksum
	if a.Format == FilesFormat {
		var err error
		if key, size, sum, err = d.download(ctx, a); err != nil {
			return cleanErr(err)
		}
	}
	rc, err := d.Blobs.Get(ctx, key)
	if err != nil {
		return cleanErr(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(flexd.VerifyBlob(rc, size, sum))
	if err != nil {
		return cleanErr(err)
	}
	client, err := connectExternal(b, selectTimeout)
	if err != nil {
		return err
	}
	defer disconnect(client)
	if err := clearDeployment(ctx, client); err != nil {
		return fmt.Errorf("restore into the deployment at %s: %w", b.Hosts, redact(b.URI, err))
	}
	if _, err := mongodump.Load(ctx, client, zr); err != nil {
		return fmt.Errorf("restore into the deployment at %s (it may hold part of the snapshot now; run the restore again): %w",
			b.Hosts, redact(b.URI, cleanErr(err)))
	}
	return nil
}

// clearDeployment drops every collection of every database but admin,
// local and config (Atlas: a restore "deletes all existing data on the
// target cluster"). What a snapshot does not capture stays as it is, so
// that restoring a deployment's own snapshot loses nothing it had: views,
// time-series collections, system.* collections (and users and roles, in
// admin).
func clearDeployment(ctx context.Context, c *mongo.Client) error {
	dbs, err := c.ListDatabaseNames(ctx, bson.D{}, options.ListDatabases().SetNameOnly(true))
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	for _, name := range dbs {
		if name == "admin" || name == "local" || name == "config" {
			continue
		}
		db := c.Database(name)
		colls, err := db.ListCollectionNames(ctx, bson.D{{Key: "type", Value: "collection"}})
		if err != nil {
			return fmt.Errorf("list collections of %s: %w", name, err)
		}
		for _, coll := range colls {
			if strings.HasPrefix(coll, "system.") {
				continue
			}
			if err := db.Collection(coll).Drop(ctx); err != nil {
				return fmt.Errorf("drop %s.%s: %w", name, coll, err)
			}
		}
	}
	return nil
}
