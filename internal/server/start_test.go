package server

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// TestStartReadsOnlyItsOwnEnvironment: a programmatic start serves the
// listener it is given and reads its environment only through
// Options.Getenv, never the process's: a test server must not change with
// the FLEXD_* variables of the shell that runs the tests.
func TestStartReadsOnlyItsOwnEnvironment(t *testing.T) {
	t.Setenv("FLEXD_AUTH", "off")
	t.Setenv("FLEXD_LISTEN", "not an address")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(context.Background(), Options{
		Args: []string{"--data-dir=" + t.TempDir()}, Listener: ln, NoDataPlane: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if s.URL != "http://"+ln.Addr().String() {
		t.Errorf("URL %s, listener %s", s.URL, ln.Addr())
	}
	resp, err := http.Get(s.URL + "/api/atlas/v2/groups")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /groups without credentials: %d, want 401 (FLEXD_AUTH=off of the process was read)", resp.StatusCode)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL + "/healthz"); err == nil {
		t.Fatal("the listener still serves after Shutdown")
	}
}
