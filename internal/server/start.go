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
	"sync"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/jobs"
	"github.com/flexd/flexd/seed"
	"github.com/flexd/flexd/service"
)

// Options starts flexd from a program instead of a command line: what
// package flexdtest uses to run the server inside a test process. Args and
// Getenv are read exactly as `flexd serve`'s command line and environment
// are, so a program and the CLI start the same server; the other fields are
// what only a program can hand over.
type Options struct {
	// Args are `flexd serve`'s flags, e.g. "--clock=manual".
	Args []string
	// Getenv is the environment the flags' defaults and the admin
	// credentials (FLEXD_ADMIN_*, FLEXD_SECRET_KEY) are read from; nil is
	// an empty one, never the process's.
	Getenv func(string) string
	// Listener is served instead of binding --listen. Start owns it: it
	// is closed when Start fails, or at Shutdown.
	Listener net.Listener
	// Log receives the log lines, in --log-format at --log-level; nil
	// discards them.
	Log io.Writer
	// NoDataPlane runs the clusters as records without a MongoDB endpoint
	// on SQLite too, as they are on PostgreSQL: snapshots and restores
	// carry the cluster's configuration only, and nothing listens on
	// --cluster-ports.
	NoDataPlane bool
	// Seed is applied at start as a --seed file is (instead of it).
	Seed *seed.File
	// SecretCost is the bcrypt cost of service account secrets (0: the
	// default, credential.DefaultSecretCost). Tests lower it to
	// bcrypt.MinCost: each secret then takes microseconds, not tens of
	// milliseconds, to make and to check.
	SecretCost int
}

// Server is a running flexd: its HTTP server serving, its job engine
// running. Shutdown stops it.
type Server struct {
	// URL is the base URL the listener is reached at (http://host:port).
	URL string
	// Handler is the whole HTTP surface: the Atlas API, /_flexd, /metrics.
	Handler http.Handler
	// Clock is the server's one clock; a *jobs.ManualClock with
	// --clock=manual.
	Clock flexd.Clock
	// Engine is the lifecycle engine: clock advances, faults, downloads.
	Engine *jobs.Engine
	// Service holds the Atlas rules over the store.
	Service *service.Service
	// Store is the store the service reads and writes through (the read
	// cache in front of the database when it is on).
	Store flexd.Store

	c      *config
	log    *slog.Logger
	srv    *http.Server
	served chan error
	// undo stops what startServer started, in reverse order.
	undo     cleanups
	after    []func()
	stopOnce sync.Once
	stopErr  error
}

// Start starts flexd as `flexd serve` with opts.Args would, serving
// opts.Listener (or --listen), and returns once it serves. ctx bounds the
// start only: the server runs until Shutdown.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	if opts.Listener != nil {
		defer func() {
			if err != nil {
				_ = opts.Listener.Close()
			}
		}()
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c, err := parseServeFlags(opts.Args, getenv, io.Discard)
	if errors.Is(err, flag.ErrHelp) {
		return nil, fmt.Errorf("%w: -help is no option of a programmatic start", errUsage)
	}
	if err != nil {
		return nil, err
	}
	if opts.Seed != nil {
		c.seed.file = opts.Seed
		if c.seed.path == "" {
			c.seed.path = opts.Seed.Name
		}
	}
	c.plane.off = opts.NoDataPlane
	c.secretCost = opts.SecretCost
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	log, err := newLogger(c, w)
	if err != nil {
		return nil, err
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", c.listen); err != nil {
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return startServer(ctx, c, ln, getenv, log)
}

// startServer opens the store, the data plane and the engine, and serves HTTP on
// ln, which it owns from now on (it is closed when start fails).
func startServer(ctx context.Context, c *config, ln net.Listener, getenv func(string) string, log *slog.Logger) (_ *Server, err error) {
	s := &Server{c: c, log: log, served: make(chan error, 1)}
	s.undo.push(func() { _ = ln.Close() })
	defer func() {
		if err != nil {
			s.undo.run()
		}
	}()
	b, err := openStore(ctx, c, getenv, log)
	if err != nil {
		return nil, err
	}
	s.undo.push(b.close)
	// The data plane: on SQLite every cluster is a MongoDB endpoint whose
	// data snapshots and restores move. On PostgreSQL it is off, and said
	// so: replicas do not share the clusters' data yet.
	clock := c.lifecycle.newClock()
	var artifacts jobs.Artifacts = jobs.ConfigArtifacts{}
	// The data plane closes the connections a change of database users or
	// access lists no longer lets in; the service tells it, in-process (it
	// runs only beside the SQLite store, in one process).
	var access flexd.AccessEnforcer
	switch {
	case c.postgresURL != "":
		log.Warn("data plane off on PostgreSQL: clusters are records without a MongoDB endpoint, and snapshots, restores and downloads carry the cluster's configuration only, no data (see README, Data plane)")
	case c.plane.off:
		log.Info("data plane off: clusters are records without a MongoDB endpoint")
	default:
		d, closePlane, err := openDataPlane(ctx, &c.plane, c.dataDir, b.store, clock, log)
		if err != nil {
			return nil, err
		}
		s.undo.push(closePlane) // after the engine stops: endpoints closed, data kept
		artifacts, access = d, d.Plane
	}
	a, err := startApp(ctx, c, b, clock, artifacts, access, getenv, log)
	if err != nil {
		return nil, err
	}
	s.undo.push(func() { a.stop(c.shutdownTimeout) })
	b.observe(a.metrics)
	stopPprof, err := startPprof(c.obs.pprof, log)
	if err != nil {
		return nil, fmt.Errorf("pprof listener: %w", err)
	}
	s.undo.push(stopPprof)

	s.Handler = a.handler(c, b, log)
	s.Clock, s.Engine, s.Service, s.Store = a.clock, a.eng, a.svc, a.store
	s.URL = "http://" + ln.Addr().String()
	s.srv = c.http.server(s.Handler, log)
	go func() { s.served <- s.srv.Serve(c.http.listener(ln)) }()
	log.Info("flexd listening", "addr", ln.Addr().String(), b.where, "version", buildVersion())
	return s, nil
}

// Done receives the error that ended serving before Shutdown was called
// (the listener failed); nothing else is ever sent on it.
func (s *Server) Done() <-chan error { return s.served }

// Shutdown stops accepting connections, lets in-flight requests finish
// within --shutdown-timeout, then stops the job engine (its running work
// gets the same time), the data plane and the store. It is safe to call
// more than once; later calls return the first one's result.
func (s *Server) Shutdown() error {
	s.stopOnce.Do(func() {
		s.log.Info("shutting down: finishing in-flight requests", "timeout", s.c.shutdownTimeout)
		ctx, cancel := context.WithTimeout(context.Background(), s.c.shutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.stopErr = fmt.Errorf("shutdown: %w", err)
		}
		s.undo.run()
		s.log.Info("stopped")
		for _, f := range s.after {
			f()
		}
	})
	return s.stopErr
}

// OnShutdown makes Shutdown call f once everything has stopped, e.g. to
// remove the data directory. Call it before Shutdown.
func (s *Server) OnShutdown(f func()) { s.after = append(s.after, f) }

// serveUntilDone runs s until ctx ends, then shuts it down.
func (s *Server) serveUntilDone(ctx context.Context) error {
	select {
	case err := <-s.served:
		_ = s.Shutdown()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return s.Shutdown()
}
