package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one measured figure of a scenario, next to its ceiling.
type row struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Flexd    *stats  `json:"flexd,omitempty"`
	Ceiling  *stats  `json:"ceiling,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"` // flexd req/s over ceiling req/s
	Note     string  `json:"note,omitempty"`
	// Value is a figure that is not a load run (a start-up time, an RSS).
	Value string `json:"value,omitempty"`
}

// report is the benchmark's outcome.
type report struct {
	Machine  string `json:"machine"`
	Pinning  string `json:"pinning"`
	Auth     string `json:"auth"`
	Settings string `json:"settings"`
	Rows     []*row `json:"rows"`
}

func newReport(o options) *report {
	pin := "none"
	if o.serverCPUs != "" && o.loadCPUs != "" {
		pin = fmt.Sprintf("server CPUs %s, load generator CPUs %s", o.serverCPUs, o.loadCPUs)
	}
	return &report{
		Machine:  fmt.Sprintf("%s/%s, %d CPUs, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version()),
		Pinning:  pin,
		Settings: fmt.Sprintf("%d connections, %s measured after %s warm-up; flexd env %v", o.conns, o.duration, o.warmup, []string(o.env)),
	}
}

func (r *report) add(scenario, name string) *row {
	x := &row{Scenario: scenario, Name: name}
	r.Rows = append(r.Rows, x)
	return x
}

// setCeiling records the ceiling run and the ratio.
func (x *row) setCeiling(c stats) {
	x.Ceiling = &c
	if x.Flexd != nil && c.PerSec > 0 {
		x.Ratio = x.Flexd.PerSec / c.PerSec
	}
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "flexd-bench\nmachine: %s\npinning: %s\nauth:    %s\nload:    %s\n\n", r.Machine, r.Pinning, r.Auth, r.Settings)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmeasure\treq/s\tp50\tp99\tceiling req/s\tceiling p50\tratio\tnote")
	for _, x := range r.Rows {
		cols := []string{x.Scenario, x.Name, "", "", "", "", "", "", x.Note}
		if x.Value != "" {
			cols[2] = x.Value
		}
		if s := x.Flexd; s != nil {
			cols[2], cols[3], cols[4] = fmt.Sprintf("%.0f", s.PerSec), dur(s.P50), dur(s.P99)
			if s.Errors > 0 {
				cols[8] = strings.TrimSpace(fmt.Sprintf("%d errors (%s) %s", s.Errors, s.FirstErr, x.Note))
			}
		}
		if c := x.Ceiling; c != nil {
			cols[5], cols[6] = fmt.Sprintf("%.0f", c.PerSec), dur(c.P50)
			cols[7] = fmt.Sprintf("%.1f%%", 100*x.Ratio)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
}

func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	default:
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *report) writeJSON(file string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
