package flexd

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestClusterBackendNeverPrintsItsURI: formatting or logging a backend by
// mistake, with any verb or handler, shows its hosts, never its URI.
func TestClusterBackendNeverPrintsItsURI(t *testing.T) {
	b := ClusterBackend{ClusterID: "c1", URI: "mongodb://u:hunter2-secret@h:1/", Hosts: "h:1", ConnectionString: "mongodb://h:1/"}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("x", "backend", b, "ptr", &b)
	}
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%v %+v %s %#v %#v", b, &b, b, b, &b), buf.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the URI's password is printed: %s", s)
		}
		if !strings.Contains(s, "h:1") {
			t.Errorf("the hosts are not printed: %s", s)
		}
	}
}
