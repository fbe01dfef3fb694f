package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/service"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build info.
var version = ""

// errUsage marks a command line that could not be understood (exit 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
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
  flexd help            show this help

Run 'flexd serve --help' for the server's flags. Every flag has an
environment variable (shown beside it); a flag given on the command line
wins over the variable.
`

// run is the whole program: main only supplies the process's context,
// arguments, environment and streams, so tests start flexd in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	// postgresURL, when set, puts the store and the job queue on a
	// PostgreSQL database that several replicas may share (postgres.go).
	postgresURL string
	seed        seedConfig
}

// envFlags registers flags whose defaults come from environment variables,
// so that --help shows each variable and the flag wins when both are given.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func (e *envFlags) string(p *string, name, env, def, help string) {
	if v := e.getenv(env); v != "" {
		def = v
	}
	e.fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

// secret is string but never shows the value, not even the one taken from
// the environment as a default in --help: a database URL may carry a password.
func (e *envFlags) secret(p *string, name, env, help string) {
	*p = e.getenv(env)
	e.fs.Var(hiddenString{p}, name, fmt.Sprintf("%s (env %s)", help, env))
}

// hiddenString is a flag.Value whose String is always empty, so the flag
// package prints no default for it.
type hiddenString struct{ p *string }

func (h hiddenString) String() string     { return "" }
func (h hiddenString) Set(v string) error { *h.p = v; return nil }

func (e *envFlags) duration(p *time.Duration, name, env string, def time.Duration, help string) {
	if v := e.getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q: %v", env, v, err))
		} else {
			def = d
		}
	}
	e.fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", help, env))
}

func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("flexd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	ef := &envFlags{fs: fs, getenv: getenv}
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
	c.seed.register(ef)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: flexd serve [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if len(ef.errs) > 0 {
		return nil, fmt.Errorf("%w: %v", errUsage, errors.Join(ef.errs...))
	}
	if err := c.lifecycle.validate(); err != nil {
		return nil, err
	}
	if err := c.auth.validate(); err != nil {
		return nil, err
	}
	if err := c.http.validate(); err != nil {
		return nil, err
	}
	if _, ok := atlasapi.ParseRateLimitMode(c.apiRateLimits); !ok {
		return nil, fmt.Errorf("%w: --api-rate-limits must be report, enforce or off, not %q", errUsage, c.apiRateLimits)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return nil, fmt.Errorf("%w: --log-format must be text or json, not %q", errUsage, c.logFormat)
	}
	if err := c.seed.load(); err != nil {
		return nil, err
	}
	return &c, nil
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

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseServeFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
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
	defer ln.Close()

	box, err := c.secrets.box(c.dataDir, getenv, log)
	if err != nil {
		return err
	}
	b, err := openBackend(ctx, c, log)
	if err != nil {
		return err
	}
	defer b.close()
	store, locked := b.store, b.locked
	store.SealWith(box)

	clock := c.lifecycle.newClock()
	m := c.obs.newMetrics(store.DB(), store, clock)
	eng := c.lifecycle.engine(store, clock, log, m)
	reads, versions := readThrough(store, locked)
	svc := service.New(reads, clock, eng, service.Config{DownloadTTL: c.lifecycle.downloadTTL})
	// Replicas starting at once make the default organization, the admin
	// credentials and River's schema one at a time.
	release, err := b.startup(ctx)
	if err != nil {
		return err
	}
	release = sync.OnceFunc(release)
	defer release()
	if err := sealSecrets(ctx, store, log); err != nil {
		return err
	}
	if err := svc.Init(ctx); err != nil {
		return err
	}
	if err := c.seed.apply(ctx, reads, svc, eng, clock, log); err != nil {
		return err
	}
	stopEngine, err := b.startEngine(ctx, eng)
	if err != nil {
		return fmt.Errorf("start lifecycle engine: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
		defer cancel()
		stopEngine(sctx)
	}()

	as, err := c.auth.setup(ctx, reads, svc, getenv, c.dataDir, noncesFor(locked), log)
	if err != nil {
		return err
	}
	release()
	b.observe(m)
	stopPprof, err := startPprof(c.obs.pprof, log)
	if err != nil {
		return fmt.Errorf("pprof listener: %w", err)
	}
	defer stopPprof()
	handler := as.wrap(atlasapi.NewServer(atlasapi.Config{
		Orgs:            svc,
		Projects:        svc,
		Clusters:        svc,
		Backups:         svc,
		Settings:        svc,
		Instance:        svc,
		APIKeys:         svc,
		ServiceAccounts: svc,
		DatabaseAccess:  svc,
		Lifecycle:       eng,
		Authenticator:   as.authenticator,
		OAuthToken:      as.token,
		OAuthRevoke:     as.revoke,
		Logger:          log,
		PublicURL:       strings.TrimRight(c.publicURL, "/"),
		RateLimits:      atlasapi.RateLimitMode(c.apiRateLimits),
		Ready:           b.ready,
		Observer:        observer(m),
		Versions:        versions,
	}))
	handler = withMetrics(m, handler)

	srv := c.http.server(handler, log)
	log.Info("flexd listening", "addr", ln.Addr().String(), b.where, "version", buildVersion())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(c.http.listener(ln)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
