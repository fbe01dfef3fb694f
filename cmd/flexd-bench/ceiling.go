package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// ceilingEnv starts the benchmark's own binary as the ceiling server:
// "address|pages file". An environment variable rather than flags, so
// that the test binary (whose flags are go test's) can be the ceiling too.
const ceilingEnv = "FLEXD_BENCH_CEILING"

// ceilingMode serves the ceiling, and reports true, when this process was
// started as one.
func ceilingMode() bool {
	v := os.Getenv(ceilingEnv)
	if v == "" {
		return false
	}
	addr, file, _ := strings.Cut(v, "|")
	if err := serveCeiling(addr, file); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	return true
}

// canned is one answer of the ceiling server: the exact bytes flexd sent.
type canned struct {
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// serveCeiling is the ceiling: a bare net/http server answering each
// request target with the exact bytes flexd returned for it, and nothing
// else. Whatever flexd does beyond this (authentication, lookups, encoding,
// logging) is what the ratio to the ceiling measures; the HTTP stack and
// the copying of the body are common to both.
func serveCeiling(addr, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var pages map[string]canned
	if err := json.Unmarshal(b, &pages); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			return
		}
		c, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", c.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(c.Body)))
		_, _ = w.Write(c.Body)
	})
	fmt.Fprintln(os.Stderr, "ceiling listening on", addr)
	return http.ListenAndServe(addr, h)
}
