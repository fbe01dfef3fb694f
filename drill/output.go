package drill

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flexd/flexd"
)

// WriteText writes the result for a person to read.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "Restore drill %s\n", verdict)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	row("source", r.ProjectID+"/"+r.ClusterName)
	row("target", r.TargetProjectID+"/"+r.TargetClusterName)
	if r.SnapshotID != "" {
		row("snapshot", fmt.Sprintf("%s (finished %s)", r.SnapshotID, stamp(r.SnapshotFinishedAt)))
	}
	if r.RestoreJobID != "" {
		row("restore job", r.RestoreJobID)
		row("status", string(r.Status))
		row("requested", stamp(r.RequestedAt))
		row("finished", stamp(r.FinishedAt))
	}
	row("RTO", measure(r.RTO, r.maxRTO(), r.MaxRTOSeconds != nil))
	if waited, ok := secondsDuration(r.ObservedRTOSeconds); ok {
		row("observed RTO", round(waited).String()+" (this machine's clock, polling every --poll-interval)")
	}
	row("RPO", measure(r.RPO, r.maxRPO(), r.MaxRPOSeconds != nil))
	_ = tw.Flush()
	if len(r.StatusChanges) > 0 {
		fmt.Fprintf(&b, "Status changes (%s):\n", r.StatusChangesSource)
		for _, c := range r.StatusChanges {
			fmt.Fprintf(&b, "  %s  %s\n", stamp(c.At), c.Status)
		}
	}
	writeData(&b, r)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "FAIL: %s\n", f)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeData writes the data check: its outcome, then each collection
// compared, with both sides' counts and checksums.
func writeData(b *strings.Builder, r *Result) {
	fmt.Fprintf(b, "Data check %s", r.Data.Status)
	if r.Data.Status != DataMismatch && r.Data.Reason != "" {
		fmt.Fprintf(b, ": %s", r.Data.Reason)
	}
	b.WriteString("\n")
	if len(r.Collections) == 0 {
		return
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  collection\tsnapshot docs\ttarget docs\tsnapshot checksum\ttarget checksum\t\n")
	for _, c := range r.Collections {
		verdict := "match"
		switch {
		case c.Missing != "":
			verdict = "MISSING in " + c.Missing
		case !c.Match:
			verdict = "DIFFERS"
		}
		fmt.Fprintf(tw, "  %s.%s\t%s\t%s\t%s\t%s\t%s\n", c.Database, c.Collection,
			side(c.Missing != flexd.MissingInSnapshot, c.SnapshotDocuments), side(c.Missing != flexd.MissingInTarget, c.TargetDocuments),
			cmp.Or(short(c.SnapshotChecksum), "-"), cmp.Or(short(c.TargetChecksum), "-"), verdict)
	}
	_ = tw.Flush()
}

func side(present bool, n int64) string {
	if !present {
		return "-"
	}
	return fmt.Sprint(n)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func measure(get func() (time.Duration, bool), max time.Duration, hasMax bool) string {
	d, ok := get()
	s := "-"
	if ok {
		s = round(d).String()
	}
	if hasMax {
		s += fmt.Sprintf(" (max %s)", max)
	}
	return s
}

// WriteJSON writes the result as one JSON object.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// The JUnit XML that CI systems (GitHub Actions reporters, GitLab, Jenkins)
// read: one suite, one test case per thing the drill checks.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
}

// WriteJUnit writes the result as JUnit XML: "restore completes", "RTO
// within --max-rto" and "RPO within --max-rpo" (skipped without a
// threshold) and "data matches the snapshot" (skipped, with the reason,
// when the data check did not run), so CI shows the drill as tests that
// passed or failed.
func WriteJUnit(w io.Writer, r *Result) error {
	secs := func(d time.Duration, ok bool) string {
		if !ok {
			return "0"
		}
		return fmt.Sprintf("%.3f", d.Seconds())
	}
	class := "flexd.drill." + r.ClusterName
	completes := junitCase{Name: "restore completes", ClassName: class, Time: secs(r.RTO())}
	switch {
	case r.Error != "":
		completes.Error = &junitProblem{Message: r.Error, Type: "drill"}
	case r.Status != "COMPLETED":
		completes.Failure = &junitProblem{Message: fmt.Sprintf("restore job %s ended %s %s", r.RestoreJobID, r.Status, r.FailureReason), Type: "status"}
	}
	threshold := func(name, flag string, get func() (time.Duration, bool), max *float64) junitCase {
		c := junitCase{Name: name + " within " + flag, ClassName: class, Time: "0"}
		d, ok := get()
		limit, hasMax := secondsDuration(max)
		switch {
		case !hasMax:
			c.Skipped = &junitProblem{Message: "no " + flag + " given"}
		case !ok:
			c.Failure = &junitProblem{Message: name + " unknown: the restore did not complete", Type: "threshold"}
		case d > limit:
			c.Failure = &junitProblem{Message: fmt.Sprintf("%s %s exceeds %s %s", name, round(d), flag, limit), Type: "threshold"}
		}
		return c
	}
	data := junitCase{Name: "data matches the snapshot", ClassName: class, Time: "0"}
	switch r.Data.Status {
	case DataMatch:
	case DataMismatch:
		data.Failure = &junitProblem{Message: r.Data.Reason, Type: "data"}
	case DataError:
		data.Error = &junitProblem{Message: r.Data.Reason, Type: "data"}
	default:
		data.Skipped = &junitProblem{Message: cmp.Or(r.Data.Reason, string(r.Data.Status))}
	}
	cases := []junitCase{completes,
		threshold("RTO", "--max-rto", r.RTO, r.MaxRTOSeconds),
		threshold("RPO", "--max-rpo", r.RPO, r.MaxRPOSeconds),
		data}
	s := junitSuite{Name: fmt.Sprintf("flexd drill %s/%s -> %s/%s", r.ProjectID, r.ClusterName, r.TargetProjectID, r.TargetClusterName),
		Tests: len(cases), Cases: cases, Time: secs(r.RTO())}
	if !r.RequestedAt.IsZero() {
		s.Timestamp = r.RequestedAt.UTC().Format("2006-01-02T15:04:05")
	}
	for _, c := range cases {
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	for _, p := range [][2]string{{"restoreJobId", r.RestoreJobID}, {"snapshotId", r.SnapshotID}, {"status", string(r.Status)},
		{"rtoSeconds", secs(r.RTO())}, {"rpoSeconds", secs(r.RPO())}} {
		if p[1] != "" {
			s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
		}
	}
	var text strings.Builder
	_ = WriteText(&text, r)
	s.SystemOut = text.String()
	doc := junitSuites{Name: "flexd drill", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
