package atlasapi

import "net/http"

// oauthEndpoint serves one of the OAuth 2.0 endpoints (/api/oauth/token,
// /api/oauth/revoke) that Config supplies. They stand outside the Atlas
// conventions: the handler authenticates the client itself and answers in
// RFC 6749's shapes. Without one (authentication off) the path does not
// exist.
func (s *server) oauthEndpoint(h http.Handler) http.Handler {
	if h == nil {
		return s.handle(func(http.ResponseWriter, *http.Request) error {
			return frameworkError(http.StatusNotFound)
		})
	}
	return h
}
