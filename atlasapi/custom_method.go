package atlasapi

import (
	"net/http"
	"strings"
)

// Atlas names some operations with a custom method after the last path
// segment's wildcard (POST /groups/{groupId}/serviceAccounts/{clientId}:invite).
// ServeMux wildcards take whole segments, so such a route is registered on
// its plain pattern and the method is split off the wildcard's value here,
// the one place that knows about it.

// customMethod splits a pattern ending in "{name}:verb" into the plain
// pattern, the wildcard's name and the ":verb" suffix.
func customMethod(pattern string) (plain, wildcard, suffix string, ok bool) {
	i := strings.LastIndex(pattern, "}:")
	if i < 0 || strings.Contains(pattern[i+1:], "/") {
		return pattern, "", "", false
	}
	open := strings.LastIndex(pattern[:i], "{")
	return pattern[:i+1], pattern[open+1 : i], pattern[i+1:], true
}

// routeHandler returns the ServeMux pattern to register rt on and its
// handler. A custom-method route answers only values carrying its suffix,
// which it strips before the route's checks see the wildcard; any other
// value is a path that does not exist (404 after authentication, from the
// catch-all).
func (s *server) routeHandler(rt route) (string, http.Handler) {
	plain, wildcard, suffix, ok := customMethod(rt.pattern)
	h := s.chain(rt)
	if !ok {
		return rt.pattern, h
	}
	return plain, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, found := strings.CutSuffix(r.PathValue(wildcard), suffix)
		if !found || v == "" {
			s.notFound.ServeHTTP(w, r)
			return
		}
		r.SetPathValue(wildcard, v)
		h.ServeHTTP(w, r)
	})
}
