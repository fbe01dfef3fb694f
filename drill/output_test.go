package drill

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flexd/flexd"
)

// TestOutputsOfADrillThatCouldNotStart: no restore job, so no RTO or RPO;
// JUnit shows an error (not a pass, not a skip) for the restore and a
// failure for each threshold asked for, and the text says why.
func TestOutputsOfADrillThatCouldNotStart(t *testing.T) {
	r := &Result{RestoreReport: flexd.RestoreReport{ProjectID: "p", ClusterName: "src", TargetProjectID: "p", TargetClusterName: "dst"}}
	r.setThresholds(Plan{MaxRTO: time.Minute})
	r.Failures = append(r.Failures, "cluster src has no completed snapshot to restore")
	r.Error = r.Failures[0]

	var junit bytes.Buffer
	if err := WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, junit.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 4 || doc.Errors != 1 || doc.Failures != 1 || s.Skipped != 2 ||
		s.Cases[0].Error == nil || !strings.Contains(s.Cases[0].Error.Message, "no completed snapshot") ||
		s.Cases[1].Failure == nil || s.Cases[2].Skipped == nil || s.Cases[3].Skipped == nil {
		t.Errorf("JUnit:\n%s", junit.String())
	}

	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if out := text.String(); !strings.HasPrefix(out, "Restore drill FAILED\n") || strings.Contains(out, "restore job") ||
		!strings.Contains(out, "FAIL: cluster src has no completed snapshot to restore") {
		t.Errorf("text:\n%s", out)
	}
	if err := (&FailedError{Failures: []string{"a", "b"}}); !strings.Contains(err.Error(), "a; b") || errors.Is(err, ErrUsage) {
		t.Errorf("FailedError %q", err.Error())
	}
}

// TestProgressOffATerminal: a buffer is not a terminal, so progress is one
// timestamped line per step and per status change, never redrawn.
func TestProgressOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.Step("picking snapshot latest of src")
	p.Status(flexd.StatusPending, true, time.Millisecond)
	p.Status(flexd.StatusPending, false, 2*time.Millisecond)
	p.Status(flexd.StatusCompleted, true, time.Second)
	p.Done()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Contains(buf.String(), "\r") || !strings.HasSuffix(lines[2], "restore job COMPLETED after 1s") {
		t.Errorf("progress:\n%q", buf.String())
	}
}
