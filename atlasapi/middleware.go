package atlasapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/flexd/flexd"
)

type stateKey struct{}

// state is what the steps of one request learn on the way to its handler.
// ServeHTTP puts one pointer to it in the request context; the steps fill
// it in, so that handlers, the encoder and the request log read one place.
type state struct {
	id    string
	start time.Time

	query    url.Values // the decoded query parameters
	pretty   bool
	envelope bool

	route     *route
	version   string // resource version served; "" answers application/json
	principal *flexd.Principal
	project   *flexd.Project      // the {groupId} project, once authorized
	org       *flexd.Organization // the {orgId} organization, once authorized
}

func newState(r *http.Request) *state {
	st := &state{id: newRequestID(), start: time.Now()}
	st.query = parseQuery(r.URL.RawQuery)
	// Errors answered before the query step (401, 406, 404…) are still
	// formatted as pretty and envelope ask; a malformed value counts as
	// absent here and is reported at the query step.
	st.pretty, _ = boolParam(st.query, "pretty", false)
	st.envelope, _ = boolParam(st.query, "envelope", false)
	return st
}

// stateOf returns the request's state; a handler called outside the server
// (a unit test) gets an empty one.
func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{}
}

// newRequestID returns the id that ties a response (X-Request-Id) to its
// log lines.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status for the request log and whether a
// response has started (a recovered panic must not write a second one).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish runs deferred by ServeHTTP: it turns a panic into the generic 500
// (the panic and stack go to the log, never to the client) and writes the
// request's log line.
func (s *server) finish(w *statusWriter, r *http.Request, st *state) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			s.logRequest(r, w.status, st)
			panic(v)
		}
		s.log.ErrorContext(r.Context(), "panic serving request", "request_id", st.id,
			"method", r.Method, "path", loggedPath(r), "panic", v, "stack", string(debug.Stack()))
		if w.status == 0 {
			s.writeError(w, r, flexd.UnexpectedError())
		}
	}
	s.logRequest(r, w.status, st)
	s.observeRequest(r, w.status, st)
}

// logRequest writes the one line per request: never a header value or a
// body, which may carry credentials or data.
func (s *server) logRequest(r *http.Request, status int, st *state) {
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", loggedPath(r)),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(st.start)),
		slog.String("request_id", st.id),
	}
	if st.principal != nil {
		attrs = append(attrs, slog.String("principal", st.principal.Name))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// redactedToken stands for a download link's token in the logs.
const redactedToken = "REDACTED"

// loggedPath is r's escaped path as the logs show it: a download link's
// token is its whole credential, working for hours without any other, so
// it is replaced. Every log line that names a path uses this.
func loggedPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, downloadPath); ok && rest != "" {
		return downloadPath + redactedToken
	}
	return p
}

// handlerFunc is a handler that returns its failure, so that every error
// reaches the client through the one error writer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// chain applies the Atlas conventions the route table declares, in the
// order Atlas answers them: authentication (401), the caller's rate-limit
// budget (429 when enforced), version (406), the shape
// of id path parameters, access and existence of the project or
// organization, then the common query parameters. List paging and the body
// are the handler's next steps (see list and withBody).
func (s *server) chain(rt route) http.Handler {
	params := wildcards(rt.pattern)
	fam, hasFamily := familyOf(rt.pattern)
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		st := stateOf(r)
		st.route = &rt
		if rt.access.scope != scopePublic {
			var err error
			if r, err = s.authenticate(r); err != nil {
				return err
			}
			if err := s.admit(w, r, fam, hasFamily); err != nil {
				return err
			}
		}
		if rt.versions != nil {
			v, err := negotiate(r.Header.Values("Accept"), rt.versions)
			if err != nil {
				return err
			}
			st.version = v
			if d, ok := deprecationOf(rt.pattern, rt.versions, v); ok {
				deprecationHeaders(w.Header(), d)
			}
		}
		if err := checkIDParams(r, params); err != nil {
			return err
		}
		var err error
		if r, err = s.authorize(r, rt.access); err != nil {
			return err
		}
		if err := checkNameParams(r, params); err != nil {
			return err
		}
		if _, _, err := formatParams(st.query); err != nil {
			return err
		}
		rt.handler.ServeHTTP(w, r)
		return nil
	})
}

// errUnauthenticated answers the special 401 with the Authenticator's
// challenge.
var errUnauthenticated = errors.New("no valid credentials")

// authenticate identifies the caller and puts it in the request context
// (flexd.WithPrincipal), where the service looks for it too.
func (s *server) authenticate(r *http.Request) (*http.Request, error) {
	p, err := s.auth.Authenticate(r)
	if e := flexd.AsError(err); (e != nil && e.Status == http.StatusUnauthorized) || (err == nil && p == nil) {
		s.observeAuth(r, authUnauthenticated)
		return r, errUnauthenticated
	}
	if err != nil {
		if flexd.AsError(err) != nil {
			s.observeAuth(r, authRejected)
		} else {
			s.observeAuth(r, authError)
		}
		return r, err
	}
	s.observeAuth(r, authOK)
	stateOf(r).principal = p
	return r.WithContext(flexd.WithPrincipal(r.Context(), p)), nil
}

// wildcards lists a pattern's path parameters in path order.
func wildcards(pattern string) []string {
	var names []string
	for seg := range strings.SplitSeq(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(seg[1:len(seg)-1], "..."))
		}
	}
	return names
}

// idParams are the path parameters that must look like Atlas ids, with
// the error Atlas gives when one does not: INVALID_GROUP_ID and
// INVALID_ORG_ID are 404s, the rest a 400.
var idParams = map[string]func(v string) *flexd.Error{
	"orgId":        flexd.InvalidOrgID,
	"groupId":      flexd.InvalidGroupID,
	"snapshotId":   func(string) *flexd.Error { return flexd.InvalidPathParameter("snapshotId") },
	"restoreJobId": func(string) *flexd.Error { return flexd.InvalidPathParameter("restoreJobId") },
	"apiUserId":    func(string) *flexd.Error { return flexd.InvalidPathParameter("apiUserId") },
}

func checkIDParams(r *http.Request, params []string) error {
	for _, name := range params {
		if bad, ok := idParams[name]; ok {
			if v := r.PathValue(name); !flexd.ValidID(v) {
				return bad(v)
			}
		}
	}
	return nil
}

// clusterName is the spec's pattern for a cluster name in a path.
var clusterName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)

// checkNameParams answers a cluster name that cannot exist with the
// CLUSTER_NOT_FOUND 404 any unknown name gets (Terraform reads 404 as
// "gone", the Atlas CLI falls back on CLUSTER_NOT_FOUND), rather than a
// 400. Being a not-found answer, it comes after the access check, so a
// caller learns nothing about a project it cannot see.
func checkNameParams(r *http.Request, params []string) error {
	for _, name := range params {
		if name == "name" || name == "clusterName" {
			if v := r.PathValue(name); !clusterName.MatchString(v) {
				return flexd.ClusterNotFound(v, r.PathValue("groupId"))
			}
		}
	}
	return nil
}
