package atlasapi

import (
	"net/http"
	"strings"
	"time"
)

// Observer is told about every request and every authentication, for the
// operator's metrics (metrics.Metrics implements it). Its labels are
// bounded: the route is the pattern from the route table, never the path,
// and a method no route has is "other".
type Observer interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	ObserveAuth(scheme, outcome string)
}

// Authentication outcomes an Observer sees.
const (
	authOK              = "ok"              // a principal
	authUnauthenticated = "unauthenticated" // no valid credentials: 401
	authRejected        = "rejected"        // refused otherwise (rate limited)
	authError           = "error"           // the authenticator failed: 500
)

// observeRequest reports a finished request.
func (s *server) observeRequest(r *http.Request, status int, st *state) {
	if s.cfg.Observer == nil {
		return
	}
	route, method := "unmatched", knownMethod(r.Method)
	if st.route != nil {
		route, method = st.route.pattern, st.route.method
	}
	if status == 0 {
		status = http.StatusOK
	}
	s.cfg.Observer.ObserveRequest(route, method, status, time.Since(st.start))
}

// observeAuth reports an authentication by the scheme the request used.
func (s *server) observeAuth(r *http.Request, outcome string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.ObserveAuth(authScheme(r.Header.Get("Authorization")), outcome)
	}
}

func authScheme(h string) string {
	if h == "" {
		return "none"
	}
	scheme, _, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return "bearer"
	case strings.EqualFold(scheme, "Digest"):
		return "digest"
	case strings.EqualFold(scheme, "Basic"):
		return "basic"
	}
	return "other"
}

func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}
