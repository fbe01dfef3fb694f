// Package atlasapi is flexd's HTTP transport: the MongoDB Atlas
// Administration API v2 for organizations, projects and the Flex cluster
// family, wire-exact so that the official Atlas clients work unchanged.
//
// Every Atlas convention (version negotiation, the error body, pretty and
// envelope, pagination and links, body decoding, access rules) is
// implemented once in this package and applied to every route by the route
// table in routes.go; the handlers only translate between the wire and the
// flexd services.
package atlasapi

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/flexd/flexd"
)

// Config holds everything the server depends on.
type Config struct {
	Orgs     flexd.OrganizationService
	Projects flexd.ProjectService
	Clusters flexd.FlexClusterService
	Backups  flexd.BackupService
	// Lifecycle serves flexd's drills (clock, faults, reset) and download
	// links; nil answers them FEATURE_UNSUPPORTED.
	Lifecycle flexd.LifecycleService
	// Backends attaches external MongoDB deployments to clusters (the
	// /_flexd/…/backend routes); nil answers them FEATURE_UNSUPPORTED.
	Backends flexd.BackendService
	// Settings serves the project sub-resources (settings, limits,
	// addresses, managed slow ms).
	Settings flexd.ProjectSettingsService
	// Instance serves flexd's instance administrator: organizations and
	// who is one. Without it nobody is one unless authentication is off
	// (flexd's drills then work as before); the organization routes need
	// it.
	Instance flexd.InstanceService
	// APIKeys and ServiceAccounts manage credentials.
	APIKeys         flexd.APIKeyService
	ServiceAccounts flexd.ServiceAccountService
	// DatabaseAccess manages database users and the IP access list.
	DatabaseAccess flexd.DatabaseAccessService
	// OAuthToken and OAuthRevoke serve POST /api/oauth/token and
	// /api/oauth/revoke (auth.OAuth); nil answers 404.
	OAuthToken  http.Handler
	OAuthRevoke http.Handler
	// Authenticator identifies callers; nil is OpenAccess.
	Authenticator Authenticator
	// Observer is told about every request and authentication, for
	// metrics; nil observes nothing.
	Observer Observer
	// Logger receives one line per request and every internal error; nil is
	// slog.Default().
	Logger *slog.Logger
	// PublicURL is the base URL clients reach flexd at
	// ("https://flexd.example.com"). Links and download URLs are built from
	// it; when empty, from the request's own scheme and Host.
	PublicURL string
	// Ready reports whether the store is reachable, for /readyz; nil means
	// always ready.
	Ready func(context.Context) error
	// RateLimits says whether Atlas's per-family budgets are reported
	// (the zero value), enforced, or neither (answer_headers.go).
	RateLimits RateLimitMode
	// RateLimitClock times the budgets' refill; nil is the wall clock.
	RateLimitClock flexd.Clock
	// Versions tells which parents the store's writes changed, so encoded
	// list answers can be reused while theirs did not (page_cache.go); nil
	// encodes every answer afresh. Pass it only with a store whose every
	// write it sees (sqlstore.Store.Versions, with the data directory
	// locked).
	Versions flexd.Versions
}

// Authenticator sits in front of every /api route (and flexd's own /_flexd
// routes).
type Authenticator interface {
	// Authenticate identifies the caller. (nil, nil) means no valid
	// credentials: the server answers 401 after calling Challenge. An error
	// that is a *flexd.Error with status 401 is treated the same way; any
	// other *flexd.Error (a rate limit, say) is answered as it is, and any
	// other error is a 500.
	Authenticate(r *http.Request) (*flexd.Principal, error)
	// Challenge adds the WWW-Authenticate header(s) of a 401.
	Challenge(w http.ResponseWriter, r *http.Request)
}

// OpenAccess is the Authenticator of a server without authentication: every
// caller is an "open" principal that may do everything.
type OpenAccess struct{}

// Authenticate lets everyone in.
func (OpenAccess) Authenticate(*http.Request) (*flexd.Principal, error) {
	return &flexd.Principal{Kind: "open", Name: "open", All: true}, nil
}

// Challenge has nothing to add: OpenAccess never answers 401.
func (OpenAccess) Challenge(http.ResponseWriter, *http.Request) {}

// server is the http.Handler NewServer returns.
type server struct {
	cfg  Config
	log  *slog.Logger
	auth Authenticator
	// mux routes "METHOD pattern" to each route's chain; its catch-all "/"
	// is the Atlas-shaped 404/405, so ServeMux never answers in plain text.
	mux *http.ServeMux
	// allowed maps each route path (without method) to a 405 answer naming
	// the methods it has, so the catch-all can tell 405 from 404.
	allowed *http.ServeMux
	// public holds the route paths whose every method is public.
	public map[string]bool
	// notFound is the catch-all itself, also used for unclean paths.
	notFound http.Handler
	// pages holds the encodings of recent list answers (page_cache.go).
	pages pageCache
	// budgets are the callers' Atlas rate-limit budgets.
	budgets *budgets
}

// NewServer returns the Atlas Admin API v2 handler described by cfg.
func NewServer(cfg Config) http.Handler {
	s := &server{
		cfg:     cfg,
		log:     cfg.Logger,
		auth:    cfg.Authenticator,
		mux:     http.NewServeMux(),
		allowed: http.NewServeMux(),
		budgets: newBudgets(cfg.RateLimits, cfg.RateLimitClock),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.auth == nil {
		s.auth = OpenAccess{}
	}
	s.cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")

	var paths []string
	methods := map[string][]string{}
	s.public = map[string]bool{}
	for _, rt := range s.routes() {
		pattern, h := s.routeHandler(rt)
		s.mux.Handle(rt.method+" "+pattern, h)
		if pattern != rt.pattern {
			continue // a custom method: its path's Allow is the plain resource's
		}
		if _, ok := methods[rt.pattern]; !ok {
			paths = append(paths, rt.pattern)
			s.public[rt.pattern] = true
		}
		s.public[rt.pattern] = s.public[rt.pattern] && rt.access.scope == scopePublic
		methods[rt.pattern] = append(methods[rt.pattern], rt.method)
	}
	for _, p := range paths {
		s.allowed.Handle(p, s.methodNotAllowed(methods[p]))
	}
	s.notFound = s.fallback()
	s.mux.Handle("/", s.notFound)
	return s
}

// ServeHTTP sets up the per-request state, logs the request and recovers
// from panics; routing itself is ServeMux's, on the escaped path.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := newState(r)
	sw := &statusWriter{ResponseWriter: w}
	sw.Header().Set("X-Request-Id", st.id)
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	defer s.finish(sw, r, st)

	// ServeMux would redirect a path with "//", "." or ".." segments to
	// its clean form with a text/html body; the Atlas API has no such
	// paths, so they are unknown paths.
	if p := r.URL.EscapedPath(); p != cleanPath(p) {
		s.notFound.ServeHTTP(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// cleanPath is the canonical form ServeMux redirects to.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/" + p // never equal to p: such a request is not routable
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// fallback answers every request no route matched: a 405 with Allow when
// the path exists with other methods, else a 404, both as Atlas errors.
// Under /api and /_flexd the caller must authenticate first, as Atlas
// answers an unauthenticated request to any path with the challenge.
func (s *server) fallback() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p := r.URL.EscapedPath()
		h, pattern := s.allowed.Handler(r)
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/_flexd/") {
			// A path that needs no credentials with any method (the
			// OAuth endpoints) answers its 405 to anyone: a Digest
			// challenge there would only mislead the client.
			if !s.public[pattern] {
				var err error
				if r, err = s.authenticate(r); err != nil {
					return err
				}
			}
			if err := s.admit(w, r, family{}, false); err != nil {
				return err
			}
		}
		if pattern != "" && p == cleanPath(p) {
			h.ServeHTTP(w, r)
			return nil
		}
		return frameworkError(http.StatusNotFound)
	})
}

// methodNotAllowed is the 405 of a known path.
func (s *server) methodNotAllowed(methods []string) http.Handler {
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, frameworkError(http.StatusMethodNotAllowed))
	})
}

// frameworkError is an error that has no Atlas code of its own (unknown
// path, wrong method, body too large): UNEXPECTED_ERROR with the real
// status, worded like Atlas's framework errors ("HTTP 404 Not Found").
func frameworkError(status int) *flexd.Error {
	return flexd.ErrorWithStatus(status, "HTTP "+itoa(status)+" "+http.StatusText(status))
}
