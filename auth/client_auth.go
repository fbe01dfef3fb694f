package auth

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBody bounds a token or revoke request body; real ones are tiny.
const maxFormBody = 16 << 10

var (
	errInvalidRequest = errors.New("invalid_request")
	errInvalidClient  = errors.New("invalid_client")
)

// readForm parses a token endpoint body. RFC 6749 wants form encoding and
// each parameter at most once (§3.2); credentials in the query string are
// forbidden (§2.3.1), so only the body is read.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err != nil {
		return nil, errInvalidRequest
	}
	return parseForm(string(body))
}

func parseForm(body string) (url.Values, error) {
	form, err := url.ParseQuery(body)
	if err != nil {
		return nil, errInvalidRequest
	}
	for _, vs := range form {
		if len(vs) > 1 {
			return nil, errInvalidRequest
		}
	}
	return form, nil
}

// clientAuth is who a token request claims to come from.
type clientAuth struct {
	id, secret string
}

// clientCredentials extracts the client's id and secret from the
// Authorization header (Basic) or, failing that, from the form, which is
// where golang.org/x/oauth2 retries when the header style is refused. Basic
// credentials are form-urlencoded before base64 (RFC 6749 §2.3.1), which
// x/oauth2 does and the Atlas SDK's own fetcher does not; decoding is a no-op
// for flexd's secrets, whose alphabet needs no escaping, so both work.
// Using two methods at once is invalid_request; anything else unusable is
// invalid_client.
func clientCredentials(authorization string, form url.Values) (clientAuth, error) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	if authorization == "" {
		if formID == "" || formSecret == "" {
			return clientAuth{}, errInvalidClient
		}
		return clientAuth{formID, formSecret}, nil
	}
	scheme, rest, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return clientAuth{}, errInvalidClient
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Trim(rest, " \t"))
	if err != nil {
		return clientAuth{}, errInvalidClient
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return clientAuth{}, errInvalidClient
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil || id == "" || secret == "" {
		return clientAuth{}, errInvalidClient
	}
	if formSecret != "" || formID != "" && formID != id {
		return clientAuth{}, errInvalidRequest
	}
	return clientAuth{id, secret}, nil
}
