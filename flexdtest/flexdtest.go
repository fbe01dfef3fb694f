// Package flexdtest starts a complete flexd inside a test process, the way
// net/http/httptest starts an HTTP server: the Atlas Administration API v2
// for projects and Flex clusters on a real HTTP listener of 127.0.0.1,
// backed by a real SQLite store in the test's temporary directory, with
// its lifecycle engine on a manual clock.
//
//	srv := flexdtest.New(t)
//	api, _ := admin.NewClient(admin.UseBaseURL(srv.URL), admin.UseDigestAuth(srv.PublicKey, srv.PrivateKey))
//	// … create a project and clusters with the official SDK …
//	srv.Advance(24 * time.Hour) // the daily snapshots are taken
//
// It is the same server `flexd serve` runs (both start through
// internal/server), started with every flag at its default except:
// --listen 127.0.0.1:0, --data-dir in t.TempDir(), --clock manual,
// lifecycle steps that take no time (--provision-time, --restore-time and
// --delete-time 0), and --cluster-ports 61000-61999, unless an option says
// otherwise. Every cluster is a live MongoDB endpoint whose connection
// string the API returns (WithoutDataPlane turns that off). The admin credentials
// are made fresh for each server: an ORG_OWNER API key for HTTP Digest and
// an ORG_OWNER service account for OAuth 2.0 client credentials, both
// instance administrators.
//
// Servers share nothing: several can run at once in one process, in
// parallel tests. New registers the server's shutdown with t.Cleanup;
// after it, nothing of the server runs and no port stays open. Start is
// for code without a *testing.T (TestMain, examples): its caller calls
// Close.
package flexdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/internal/server"
	"github.com/flexd/flexd/seed"
)

// Server is a running flexd.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123: the SDK's
	// UseBaseURL, the Atlas CLI's MONGODB_ATLAS_OPS_MANAGER_URL.
	URL string
	// OrgID is the default organization's id, the one the admin
	// credentials own.
	OrgID string
	// PublicKey and PrivateKey are an ORG_OWNER API key of OrgID (HTTP
	// Digest: the SDK's UseDigestAuth), and an instance administrator
	// (/_flexd/clock, POST /orgs).
	PublicKey, PrivateKey string
	// ClientID and ClientSecret are an ORG_OWNER service account of
	// OrgID (OAuth 2.0 client credentials: the SDK's UseOAuthAuth), an
	// instance administrator too.
	ClientID, ClientSecret string
	// DataDir holds the SQLite store and, with the data plane, the
	// clusters' data and the snapshots' artifacts.
	DataDir string

	srv  *server.Server
	logs *logBuffer
	// fail reports a failed helper call: the test's Fatalf, or a panic
	// for a server made by Start.
	fail func(format string, args ...any)
}

// Option adjusts the server New or Start starts.
type Option func(*settings)

type settings struct {
	args        []string
	dataDir     string
	noDataPlane bool
	seedPath    string
	seedYAML    []byte
	logs        io.Writer
}

// WithProvisionTime is --provision-time: how long a new cluster stays
// CREATING, on the server's clock (default 0: IDLE as soon as its job
// runs). On the manual clock, Advance moves it on.
func WithProvisionTime(d time.Duration) Option { return withDuration("provision-time", d) }

// WithRestoreTime is --restore-time: the least time a restore stays
// RUNNING (default 0).
func WithRestoreTime(d time.Duration) Option { return withDuration("restore-time", d) }

// WithDeleteTime is --delete-time: how long a deleted cluster stays
// DELETING (default 0).
func WithDeleteTime(d time.Duration) Option { return withDuration("delete-time", d) }

// WithSnapshotInterval is --snapshot-interval: the time between scheduled
// snapshots, the first one interval after a cluster is created (default
// 24h, as Atlas; 0 turns them off).
func WithSnapshotInterval(d time.Duration) Option { return withDuration("snapshot-interval", d) }

// WithSnapshotRetention is --snapshot-retention: completed snapshots kept
// per cluster (default 8).
func WithSnapshotRetention(n int) Option {
	return WithArgs("--snapshot-retention=" + strconv.Itoa(n))
}

// WithDownloadTTL is --download-ttl: how long a snapshot download link
// works (default 4h).
func WithDownloadTTL(d time.Duration) Option { return withDuration("download-ttl", d) }

// WithRealClock runs the lifecycle on the wall clock (--clock real):
// lifecycle steps then take their time for real, and Advance fails.
func WithRealClock() Option { return WithArgs("--clock=real") }

// WithClusterPorts is --cluster-ports: the range ("FIRST-LAST") the
// clusters' MongoDB endpoints listen in (default 61000-61999). A port
// another server or process holds is skipped, so parallel servers share a
// range safely.
func WithClusterPorts(ports string) Option { return WithArgs("--cluster-ports=" + ports) }

// WithoutDataPlane runs the clusters as records without a MongoDB
// endpoint, as flexd does on PostgreSQL: snapshots and restores carry a
// cluster's configuration only, its connection string leads nowhere, and
// nothing listens on the cluster ports. Each cluster then starts a few
// milliseconds faster.
func WithoutDataPlane() Option { return func(s *settings) { s.noDataPlane = true } }

// defaultClusterPorts is the data plane's port range unless
// WithClusterPorts names one: away from flexd serve's default (27100-27999), so a flexd a
// developer runs beside the tests keeps its ports, and above Linux's
// ephemeral range (32768-60999), where clients' own ports come from.
const defaultClusterPorts = "61000-61999"

// WithSeed applies a seed file at start, as `flexd serve --seed FILE`
// does (package seed; README, "Seeding"): organizations, projects, API
// keys and service accounts with fixed credentials, clusters and
// snapshots. The admin credentials are made beside it.
func WithSeed(path string) Option { return func(s *settings) { s.seedPath = path } }

// WithSeedYAML is WithSeed with the file's contents.
func WithSeedYAML(yaml []byte) Option { return func(s *settings) { s.seedYAML = yaml } }

// WithDataDir keeps the server's data in dir instead of a new temporary
// directory, e.g. to start a second server on what a first one left.
func WithDataDir(dir string) Option { return func(s *settings) { s.dataDir = dir } }

// WithLogOutput writes the server's log lines (text, at --log-level) to w
// as they come. Whatever this option says, New shows the log in the
// test's output when the test fails.
func WithLogOutput(w io.Writer) Option { return func(s *settings) { s.logs = w } }

// WithArgs passes `flexd serve` flags (`flexd serve --help`), for what no
// other option covers, e.g. "--api-rate-limits=enforce" or
// "--postgres-url=…". Options are read in the order given, after
// flexdtest's own defaults: of two that set one flag, the later wins.
func WithArgs(args ...string) Option {
	return func(s *settings) { s.args = append(s.args, args...) }
}

func withDuration(flag string, d time.Duration) Option {
	return WithArgs("--" + flag + "=" + d.String())
}

// New starts a server for the test, failing it if the server cannot
// start, and stops the server in t.Cleanup. The server's log is shown
// when the test fails.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var dir string
	if !hasDataDir(opts) {
		dir = t.TempDir()
	}
	s, err := start(dir, opts)
	if err != nil {
		t.Fatalf("flexdtest: %v", err)
	}
	s.fail = t.Fatalf
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("flexdtest: %v", err)
		}
		if t.Failed() {
			t.Logf("flexdtest: the log of the server at %s:\n%s", s.URL, s.logs.String())
		}
	})
	return s
}

// Start starts a server outside a test: in TestMain, an example, or a
// program. Its caller must Close it; a helper that fails (Advance,
// Snapshot, InjectFault) panics. Without WithDataDir its data is in a new
// temporary directory that Close removes.
func Start(opts ...Option) (*Server, error) {
	return start("", opts)
}

func hasDataDir(opts []Option) bool {
	var s settings
	for _, o := range opts {
		o(&s)
	}
	return s.dataDir != ""
}

// start starts a server with its data in dir, or in a temporary directory
// removed at Close when dir and the options name none.
func start(dir string, opts []Option) (_ *Server, err error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	var sf *seed.File
	switch {
	case st.seedYAML != nil:
		sf, err = seed.Parse("seed.yaml", st.seedYAML)
	case st.seedPath != "":
		sf, err = seed.Load(st.seedPath)
	}
	if err != nil {
		return nil, err
	}
	var removeDir func()
	switch {
	case st.dataDir != "":
		dir = st.dataDir
	case dir == "":
		if dir, err = os.MkdirTemp("", "flexdtest-"); err != nil {
			return nil, err
		}
		removeDir = func() { _ = os.RemoveAll(dir) }
		defer func() {
			if err != nil {
				removeDir()
			}
		}()
	}
	if err := seedStore(dir); err != nil {
		return nil, err
	}
	s := &Server{DataDir: dir, logs: &logBuffer{}, fail: func(format string, args ...any) {
		panic(fmt.Sprintf(format, args...))
	}}
	s.PublicKey, s.PrivateKey, s.ClientID, s.ClientSecret = newCredentials()
	env := map[string]string{
		"FLEXD_ADMIN_PUBLIC_KEY": s.PublicKey, "FLEXD_ADMIN_PRIVATE_KEY": s.PrivateKey,
		"FLEXD_ADMIN_CLIENT_ID": s.ClientID, "FLEXD_ADMIN_CLIENT_SECRET": s.ClientSecret,
	}
	var w io.Writer = s.logs
	if st.logs != nil {
		w = io.MultiWriter(s.logs, st.logs)
	}
	args := append([]string{"--listen=127.0.0.1:0", "--data-dir=" + dir, "--clock=manual",
		"--provision-time=0", "--restore-time=0", "--delete-time=0", "--cluster-ports=" + defaultClusterPorts}, st.args...)
	srv, err := server.Start(context.Background(), server.Options{
		Args: args, Getenv: func(k string) string { return env[k] }, Log: w,
		NoDataPlane: st.noDataPlane, Seed: sf,
		// Secrets this server makes live as long as a test: bcrypt's
		// least cost keeps a service account's start and each token
		// request fast.
		SecretCost: bcrypt.MinCost,
	})
	if err != nil {
		return nil, err
	}
	if removeDir != nil {
		srv.OnShutdown(removeDir)
	}
	s.srv, s.URL, s.OrgID = srv, srv.URL, srv.Service.DefaultOrgID()
	return s, nil
}

// newCredentials makes admin credentials in Atlas's shapes: a public key
// of 8 lowercase letters, a UUID private key, a service account id
// mdb_sa_id_ and 24 hex digits, and a secret.
func newCredentials() (publicKey, privateKey, clientID, clientSecret string) {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand's Read never fails
	pub := make([]byte, len(b))
	for i, c := range b {
		pub[i] = 'a' + c%26
	}
	u := randomHex(16)
	return string(pub), u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:32],
		"mdb_sa_id_" + randomHex(12), "mdb_sa_sk_" + randomHex(24)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close shuts the server down gracefully: in-flight requests finish, the
// job engine stops, every cluster endpoint and the store are closed. It
// is safe to call more than once.
func (s *Server) Close() error {
	return s.srv.Shutdown()
}

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.srv.Clock.Now() }

// Advance moves the manual clock forward by d and runs everything that
// comes due, in order (provisioning, scheduled snapshots, restores,
// retention), before it returns the new time, as
// POST /_flexd/clock:advance does. Call it from the test's goroutine.
func (s *Server) Advance(d time.Duration) time.Time {
	c, err := s.srv.Engine.AdvanceClock(context.Background(), d)
	if err != nil {
		s.fail("flexdtest: advance the clock by %s: %v", d, err)
		return time.Time{}
	}
	return c.Now
}

// Snapshot takes a snapshot of the cluster now, as
// POST /_flexd/groups/{groupId}/flexClusters/{name}/snapshots does, and
// returns it once it has ended (COMPLETED, or FAILED with its
// FailureReason after an injected fault). Call it from the test's
// goroutine.
func (s *Server) Snapshot(groupID, cluster string) *flexd.Snapshot {
	ctx := context.Background()
	sn, err := s.srv.Service.TakeSnapshot(ctx, groupID, cluster)
	if err == nil {
		sn, err = s.awaitSnapshot(ctx, sn)
	}
	if err != nil {
		s.fail("flexdtest: snapshot of %s in %s: %v", cluster, groupID, err)
		return nil
	}
	return sn
}

// snapshotPoll is how often Snapshot looks again on a real clock.
const snapshotPoll = 5 * time.Millisecond

// awaitSnapshot returns sn once its job has ended: on the manual clock by
// running what is due now, on the real one by looking again until it has.
func (s *Server) awaitSnapshot(ctx context.Context, sn *flexd.Snapshot) (*flexd.Snapshot, error) {
	clock, err := s.srv.Engine.Clock(ctx)
	if err != nil {
		return nil, err
	}
	for {
		if clock.Manual {
			if _, err := s.srv.Engine.AdvanceClock(ctx, 0); err != nil {
				return nil, err
			}
		}
		got, err := s.srv.Store.GetSnapshot(ctx, sn.ClusterID, sn.ID)
		if err != nil {
			return nil, err
		}
		if got.Status.Done() {
			return got, nil
		}
		time.Sleep(snapshotPoll)
	}
}

// InjectFault makes the next f.Count restores into the cluster (f.Operation
// flexd.FaultRestore) or snapshots of it (flexd.FaultSnapshot) fail with
// f.Reason, as POST /_flexd/groups/{groupId}/flexClusters/{name}/faults
// does. Call it from the test's goroutine.
func (s *Server) InjectFault(groupID, cluster string, f flexd.FaultRequest) {
	if _, err := s.srv.Engine.InjectFault(context.Background(), groupID, cluster, f); err != nil {
		s.fail("flexdtest: inject a %s fault into %s in %s: %v", f.Operation, cluster, groupID, err)
	}
}

// Logs returns the server's log so far.
func (s *Server) Logs() string { return s.logs.String() }

// logBuffer keeps the log lines the server writes from its goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
