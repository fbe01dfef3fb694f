package atlasapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flexd/flexd"
)

// apiError is Atlas's error body. Its keys are in the alphabetical order
// Atlas writes them; parameters is always present and keeps its values'
// JSON types; status is added only for envelope=true.
type apiError struct {
	Detail     string `json:"detail"`
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
	Status     *int   `json:"status,omitempty"`
}

// unauthenticatedBody is the 401 Atlas answers to missing or bad
// credentials, byte for byte as captured: a different serializer (" : ",
// pretty, its own key order, no parameters) from every other error.
const unauthenticatedBody = "{\n" +
	`  "error" : 401,` + "\n" +
	`  "reason" : "Unauthorized",` + "\n" +
	`  "detail" : "You are not authorized for this resource.",` + "\n" +
	`  "errorCode" : "UNEXPECTED_ERROR"` + "\n" +
	"}"

// writeError is the one place errors reach the client. A *flexd.Error is
// answered as the Atlas error it is; anything else is logged with the
// request id for the operator and answered with the generic 500, so no
// internals leak.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	if errors.Is(err, errUnauthenticated) {
		s.auth.Challenge(w, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(unauthenticatedBody))
		return
	}
	e := flexd.AsError(err)
	if e == nil {
		s.log.ErrorContext(r.Context(), "internal error", "request_id", st.id,
			"method", r.Method, "path", loggedPath(r), "err", err)
		e = flexd.UnexpectedError()
	}
	if merr := encodeError(w, e, st); merr != nil {
		s.log.ErrorContext(r.Context(), "encoding error body", "request_id", st.id, "err", merr)
	}
}

// WriteError writes e as Atlas does, for handlers that live outside the
// API server but answer Atlas-shaped errors (the OAuth token endpoint's 429
// and 500): the same encoder as every API error, so the two never drift.
func WriteError(w http.ResponseWriter, r *http.Request, e *flexd.Error) {
	st := &state{}
	if r != nil {
		st = stateOf(r)
	}
	_ = encodeError(w, e, st)
}

// encodeError writes e's status, headers and body, formatted as st asks
// (pretty, envelope). It reports a parameter that could not be encoded;
// the body is then written without parameters.
func encodeError(w http.ResponseWriter, e *flexd.Error, st *state) error {
	body := apiError{
		Detail:     e.Detail,
		Error:      e.Status,
		ErrorCode:  e.Code,
		Parameters: e.Parameters,
		Reason:     http.StatusText(e.Status),
	}
	if body.Parameters == nil {
		body.Parameters = []any{}
	}
	if st.envelope {
		body.Status = &body.Error
	}
	data, merr := marshal(body, st.pretty)
	if merr != nil {
		// Only an unencodable parameter gets here: drop the parameters.
		body.Parameters = []any{}
		data, _ = marshal(body, st.pretty)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Error-Code", e.Code)
	if e.RetryAfter > 0 {
		h.Set("Retry-After", RetryAfter(e.RetryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(data)
	return merr
}

// RetryAfter formats d for the Retry-After header: whole seconds, rounded
// up, at least 1. It is flexd's one formatter of that header.
func RetryAfter(d time.Duration) string {
	return itoa(max(int((d+time.Second-1)/time.Second), 1))
}

// ProtocolError returns a whole HTTP/1.1 response, Connection: close, with
// the Atlas error body for status, for answers written on a connection
// before any handler runs: too many connections (503), headers over the
// size limit (431), a request net/http could not parse (400).
func ProtocolError(status int) []byte {
	w := &rawResponse{header: http.Header{}}
	_ = encodeError(w, frameworkError(status), &state{})
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Set("Connection", "close")
	_ = w.header.Write(&b)
	b.WriteString("\r\n")
	b.Write(w.body.Bytes())
	return []byte(b.String())
}

// rawResponse collects what encodeError writes.
type rawResponse struct {
	header http.Header
	body   bytes.Buffer
}

func (w *rawResponse) Header() http.Header         { return w.header }
func (w *rawResponse) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *rawResponse) WriteHeader(int)             {}
