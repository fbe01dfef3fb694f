package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/dataplane"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/metrics"
	"github.com/flexd/flexd/service"
)

// version is set at build time with -ldflags "-X github.com/flexd/flexd/internal/server.version=…"; otherwise
// it comes from the module's build info.
var version = ""

// errUsage marks a command line that could not be understood (exit 2).
var errUsage = errors.New("usage")

// ExitCode is the process exit status for an error Run returned: 2 for a
// command line that could not be understood, 1 otherwise.
func ExitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `flexd serves the MongoDB Atlas Administration API v2 for Flex clusters,
their backup snapshots, snapshot downloads and restore jobs.

Usage:
  flexd serve [flags]   start the server
  flexd drill [flags]   run a restore drill against flexd or Atlas, measuring RTO and RPO
  flexd healthcheck     exit 0 when a flexd answers GET /healthz (the image's HEALTHCHECK)
  flexd version         print the version, revision and build date
  flexd completion SHELL  print a completion script for bash, zsh or fish
  flexd help            show this help

Run 'flexd serve --help' for the server's flags. Every flag has an
environment variable (shown beside it) and may be a key of a YAML file
given with --config; a flag given on the command line wins over the
variable, the variable over the file.
`

// Run is the whole program: main only supplies the process's context,
// arguments, environment and streams, so tests start flexd in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	switch args[1] {
	case "serve":
		return serve(ctx, args[2:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		printVersion(stdout)
		return nil
	case "drill":
		return drillCommand(ctx, args[2:], getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[2:], getenv, stdout, stderr)
	case "completion":
		return completion(ctx, args[2:], stdout, stderr)
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, args[1])
	}
}

// config is everything serve can be told.
type config struct {
	listen          string
	dataDir         string
	publicURL       string
	apiRateLimits   string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	lifecycle       lifecycleConfig
	http            httpConfig
	secrets         secretsConfig
	auth            authConfig
	obs             obsConfig
	plane           dataPlaneConfig
	// postgresURL, when set, puts the store and the job queue on a
	// PostgreSQL database that several replicas may share (postgres.go).
	postgresURL string
	seed        seedConfig
	// secretCost is the bcrypt cost of client secrets (0: the default);
	// only a programmatic start (Options) sets it.
	secretCost int
}

// parseServeFlags is parseServe for a start from Go (Start) and tests:
// the configuration alone, --config included, and --print-config refused.
func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c, cmd, err := parseServe(args, getenv, stderr)
	if err == nil && cmd.printConfig {
		return nil, fmt.Errorf("%w: --print-config is for the command line (flexd serve --print-config)", errUsage)
	}
	return c, err
}

// serveCommand is what serve was asked beside the configuration.
type serveCommand struct {
	flags       *envFlags
	configFile  string
	printConfig bool
}

// parseServe reads serve's flags, environment and config file into a
// checked config.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (*config, *serveCommand, error) {
	fs := flag.NewFlagSet("flexd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	ef := &envFlags{fs: fs, getenv: getenv}
	cmd := &serveCommand{flags: ef}
	ef.string(&cmd.configFile, "config", "FLEXD_CONFIG", "",
		"YAML file of settings: each key a flag's name, e.g. \"listen: 0.0.0.0:8080\"; flags and environment variables win over it")
	ef.settings[len(ef.settings)-1].fromFile = false
	fs.BoolVar(&cmd.printConfig, "print-config", false, "print the effective configuration (secrets masked), with where each value came from, and exit")
	ef.string(&c.listen, "listen", "FLEXD_LISTEN", "127.0.0.1:8080", "address to serve HTTP on")
	ef.string(&c.dataDir, "data-dir", "FLEXD_DATA_DIR", "./flexd-data",
		"directory (mode 0700) of the embedded SQLite store and the secret key file; unused with --postgres-url, except for the secret key file (unless FLEXD_SECRET_KEY is set) and the admin key generated at a first start")
	ef.secret(&c.postgresURL, "postgres-url", "FLEXD_POSTGRES_URL",
		"PostgreSQL database to share with other flexd replicas, e.g. postgres://flexd@db:5432/flexd (default: the embedded SQLite store; prefer the variable for a URL with a password)")
	ef.string(&c.publicURL, "public-url", "FLEXD_PUBLIC_URL", "", "base URL clients reach flexd at, for links and download URLs (default: taken from each request)")
	ef.string(&c.logFormat, "log-format", "FLEXD_LOG_FORMAT", "text", "log format: text or json")
	ef.string(&c.logLevel, "log-level", "FLEXD_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	ef.duration(&c.shutdownTimeout, "shutdown-timeout", "FLEXD_SHUTDOWN_TIMEOUT", 30*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	ef.string(&c.apiRateLimits, "api-rate-limits", "FLEXD_API_RATE_LIMITS", string(atlasapi.RateLimitReport),
		"Atlas's per-caller API budgets (Ratelimit-* headers): report, enforce (429 RATE_LIMITED when spent), or off")
	c.lifecycle.register(ef)
	c.http.register(ef)
	c.secrets.register(ef)
	c.auth.register(ef)
	c.obs.register(ef)
	c.plane.register(ef)
	c.seed.register(ef)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: flexd serve [flags]\n\n"+
			"Each flag may also be given by its environment variable, or as a key of the\n"+
			"--config file named like the flag; a flag wins over the variable, the\n"+
			"variable over the file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := ef.parse(args, &cmd.configFile); err != nil {
		return nil, nil, err
	}
	if err := c.validate(); err != nil {
		return nil, nil, ef.explain(err)
	}
	if err := c.seed.load(); err != nil {
		return nil, nil, err
	}
	return &c, cmd, nil
}

// validate checks what each setting cannot check alone.
func (c *config) validate() error {
	for _, check := range []func() error{c.lifecycle.validate, c.plane.validate, c.auth.validate, c.http.validate} {
		if err := check(); err != nil {
			return err
		}
	}
	if _, ok := atlasapi.ParseRateLimitMode(c.apiRateLimits); !ok {
		return fmt.Errorf("%w: --api-rate-limits must be report, enforce or off, not %q", errUsage, c.apiRateLimits)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return fmt.Errorf("%w: --log-format must be text or json, not %q", errUsage, c.logFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	return nil
}

func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(quietRiver{inner: h}), nil
}

// serve runs flexd until ctx ends: it binds, opens the store, starts the
// service and its job engine, and serves HTTP until it is told to stop.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, cmd, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cmd.printConfig {
		cmd.flags.printConfig(stdout, cmd.configFile)
		return nil
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	// Bind first: on an address that is taken, flexd fails before it
	// writes anything (no store opened or migrated, no admin key file, no
	// job engine).
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s, err := startServer(ctx, c, ln, getenv, log)
	if err != nil {
		return err
	}
	return s.serveUntilDone(ctx)
}

// openStore opens the store serve was told to use, sealing its secrets
// with the configured key.
func openStore(ctx context.Context, c *config, getenv func(string) string, log *slog.Logger) (*backend, error) {
	box, err := c.secrets.box(c.dataDir, getenv, log)
	if err != nil {
		return nil, err
	}
	b, err := openBackend(ctx, c, log)
	if err != nil {
		return nil, err
	}
	b.store.SealWith(box)
	return b, nil
}

// app is the service and what runs beside it, once started.
type app struct {
	svc      *service.Service
	eng      *jobs.Engine
	clock    flexd.Clock
	store    flexd.Store // what the service reads and writes through
	auth     *authSetup
	metrics  *metrics.Metrics
	versions flexd.Versions
	// stopEngine stops the job engine, waiting until ctx ends.
	stopEngine func(ctx context.Context)
}

// startApp builds the service on b and starts its job engine. Replicas
// starting at once make the default organization, the admin credentials
// and River's schema one at a time: the start-up lock is held until it
// returns.
func startApp(ctx context.Context, c *config, b *backend, clock flexd.Clock, artifacts jobs.Artifacts, access flexd.AccessEnforcer,
	getenv func(string) string, log *slog.Logger) (*app, error) {
	store := b.store
	m := c.obs.newMetrics(store.DB(), store, clock)
	eng := c.lifecycle.engine(store, clock, log, m, artifacts)
	reads, versions := readThrough(store, b.locked)
	svc := service.New(reads, clock, eng, service.Config{DownloadTTL: c.lifecycle.downloadTTL,
		InitialAccessList: c.plane.initialAccess, Access: access, SecretCost: c.secretCost})
	if d, ok := artifacts.(*dataplane.DataArtifacts); ok {
		svc.SetBackends(d) // PUT …/backend attaches deployments through it
	}
	release, err := b.startup(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := sealSecrets(ctx, store, log); err != nil {
		return nil, err
	}
	if err := svc.Init(ctx); err != nil {
		return nil, err
	}
	if err := c.seed.apply(ctx, reads, svc, eng, clock, c.secretCost, log); err != nil {
		return nil, err
	}
	stopEngine, err := b.startEngine(ctx, eng)
	if err != nil {
		return nil, fmt.Errorf("start lifecycle engine: %w", err)
	}
	a := &app{svc: svc, eng: eng, clock: clock, store: reads, metrics: m, versions: versions, stopEngine: stopEngine}
	a.auth, err = c.auth.setup(ctx, reads, svc, getenv, c.dataDir, noncesFor(b.locked), log)
	if err != nil {
		a.stop(c.shutdownTimeout)
		return nil, err
	}
	return a, nil
}

// stop stops the job engine, giving its running jobs timeout to finish.
func (a *app) stop(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	a.stopEngine(ctx)
}

// handler is the HTTP API on the app, behind authentication and metrics.
func (a *app) handler(c *config, b *backend, log *slog.Logger) http.Handler {
	svc := a.svc
	handler := a.auth.wrap(atlasapi.NewServer(atlasapi.Config{
		Orgs:            svc,
		Projects:        svc,
		Clusters:        svc,
		Backups:         svc,
		Backends:        svc,
		Settings:        svc,
		Instance:        svc,
		APIKeys:         svc,
		ServiceAccounts: svc,
		DatabaseAccess:  svc,
		Lifecycle:       a.eng,
		Authenticator:   a.auth.authenticator,
		OAuthToken:      a.auth.token,
		OAuthRevoke:     a.auth.revoke,
		Logger:          log,
		PublicURL:       strings.TrimRight(c.publicURL, "/"),
		RateLimits:      atlasapi.RateLimitMode(c.apiRateLimits),
		Ready:           b.ready,
		Observer:        observer(a.metrics),
		Versions:        a.versions,
	}))
	return withMetrics(a.metrics, handler)
}
