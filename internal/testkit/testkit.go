// Package testkit holds what the end-to-end tests of several packages
// (atlasapi, jobs, cmd/flexd) share: sending a request to a real flexd
// over HTTP and reading the whole answer, waiting for work that runs in
// the background, and collecting log output. Tests only import it.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// AcceptFlex is the versioned media type of the Flex cluster API.
const AcceptFlex = "application/vnd.atlas.2024-11-13+json"

// AcceptFor is the Accept a path is served with: the project list answers
// only its own version, everything else the Flex API's.
func AcceptFor(path string) string {
	if strings.HasSuffix(path, "/groups") {
		return "application/vnd.atlas.2023-01-01+json"
	}
	return AcceptFlex
}

// Request returns a request as the tests send it: Accept AcceptFlex,
// Content-Type application/json when there is a body, and authorization
// unless it is empty. Callers change headers as they need.
func Request(t testing.TB, method, url, body, authorization string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", AcceptFlex)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

// Response is an answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Object decodes the body as a JSON object: nil for an empty body.
func (r Response) Object() (map[string]any, error) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil, nil
	}
	var m map[string]any
	err := json.Unmarshal(r.Body, &m)
	return m, err
}

// Do sends req with the default client and reads the whole answer,
// failing t when it cannot be sent.
func Do(t testing.TB, req *http.Request) Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Eventually polls cond every few milliseconds until it holds, failing t
// once within has passed: for work that runs in the background on a real
// clock.
func Eventually(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// SyncBuffer collects log output written from several goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
