package dataplane_test

import (
	"compress/gzip"
	"io"
	"testing"
)

func parseTGZ(t *testing.T, r io.Reader) map[string]map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := parseDump(t, zr)
	return docs
}
