package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets the test binary serve as the ceiling when the benchmark
// starts it as one.
func TestMain(m *testing.M) {
	if ceilingMode() {
		return
	}
	os.Exit(m.Run())
}

// TestSmoke runs the benchmark in its few-second mode so that it keeps
// working: it must produce a figure for every scenario. Nothing here looks
// at the figures themselves; timing depends on the machine.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs flexd")
	}
	out := filepath.Join(t.TempDir(), "report.json")
	if err := run(t.Context(), []string{"-smoke", "-json", out}, io.Discard, testLog{t}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		if r.Flexd != nil || r.Value != "" || r.Note != "" {
			seen[r.Scenario] = true
		}
		if r.Flexd != nil && r.Flexd.Calls == 0 {
			t.Errorf("scenario %s (%s): no successful call", r.Scenario, r.Name)
		}
	}
	for _, s := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		if !seen[s] {
			t.Errorf("the report has nothing for scenario %s", s)
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", p)
	return len(p), nil
}
