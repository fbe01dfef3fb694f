// Command flexd-bench measures flexd against this machine's ceiling.
//
// It builds flexd, starts it as a real process on a fresh SQLite data
// directory, seeds it through the HTTP API (and, for the scale scenario,
// through the service layer with a bulk loader), and drives it with a
// closed-loop load generator over keep-alive connections. In the same run
// it starts a bare net/http server that answers the same request targets
// with the exact bytes flexd returned: every figure is reported next to
// that ceiling, so results compare across machines. Where taskset exists
// the servers run on one set of CPUs and the load generator on another.
//
//	go run ./cmd/flexd-bench              # the full run (minutes; see -scale)
//	go run ./cmd/flexd-bench -smoke       # a few seconds, what CI runs
//	go run ./cmd/flexd-bench -json r.json # also write the report as JSON
//
// docs/PERFORMANCE.md explains the scenarios and records results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// options are the benchmark's flags.
type options struct {
	smoke         bool
	duration      time.Duration
	warmup        time.Duration
	conns         int
	jobs          int
	scale         int
	scaleClusters int
	inflight      int
	flexd         string
	serverCPUs    string
	loadCPUs      string
	jsonOut       string
	keep          bool
	env           envList
	clusterPorts  string
	dataMB        string
	wireCopyMB    int
	idleClusters  int
	controlOnly   bool
	dataOnly      bool
}

// envList is a repeatable -flexd-env flag.
type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if ceilingMode() {
		return
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flexd-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flexd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.BoolVar(&o.smoke, "smoke", false, "a few-second run with small sizes, to check that the benchmark works (CI)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each load run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each load run")
	fs.IntVar(&o.conns, "c", 10, "keep-alive connections (closed-loop workers) of the load runs")
	fs.IntVar(&o.jobs, "jobs", 150, "restore jobs seeded through the API into the listed cluster")
	fs.IntVar(&o.scale, "scale", 1_000_000, "restore jobs the bulk loader puts in the store for scenario 5's large size")
	fs.IntVar(&o.scaleClusters, "scale-clusters", 10_000, "clusters the scale jobs are spread over")
	fs.IntVar(&o.inflight, "inflight", 16, "restores in flight for scenario 4's throughput")
	fs.StringVar(&o.flexd, "flexd", "", "flexd binary to measure (default: go build ./cmd/flexd of this module)")
	fs.StringVar(&o.serverCPUs, "server-cpus", defaultCPUs(true), "CPUs for flexd and the ceiling (taskset -c list; empty: no pinning)")
	fs.StringVar(&o.loadCPUs, "load-cpus", defaultCPUs(false), "CPUs for the load generator (taskset -c list; empty: no pinning)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	fs.StringVar(&o.clusterPorts, "cluster-ports", "", "FLEXD_CLUSTER_PORTS of the flexd under test (default 12000-32767: the scale store's clusters are all served; -smoke: 33000-39999)")
	fs.StringVar(&o.dataMB, "data-mb", "100,1000", "sizes in MB of documents that scenario 7 snapshots and restores, comma-separated (-smoke: 2)")
	fs.IntVar(&o.wireCopyMB, "wire-copy-mb", 100, "largest -data-mb size that scenario 7 also copies client-side through the wire (the slow alternative: ~1-7 MB/s)")
	fs.IntVar(&o.idleClusters, "idle-clusters", 1000, "clusters of scenario 9 (idle footprint, start-up, cold first query)")
	fs.BoolVar(&o.controlOnly, "control-only", false, "run the control-plane scenarios 1-6 only")
	fs.BoolVar(&o.dataOnly, "data-only", false, "run the data-plane scenarios 7-9 only")
	fs.Var(&o.env, "flexd-env", "NAME=value to start flexd with (repeatable), e.g. FLEXD_READ_CACHE=false for the uncached baseline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.smoke {
		o.duration, o.warmup, o.conns = 200*time.Millisecond, 30*time.Millisecond, 4
		o.jobs, o.scale, o.scaleClusters, o.inflight = 120, 3000, 30, 4
		if !set["data-mb"] {
			o.dataMB = "2"
		}
		if !set["idle-clusters"] {
			o.idleClusters = 20
		}
	}
	if o.clusterPorts == "" {
		o.clusterPorts = "12000-32767"
		if o.smoke {
			o.clusterPorts = "33000-39999"
		}
	}
	if o.controlOnly && o.dataOnly {
		return errors.New("-control-only and -data-only exclude each other")
	}
	if o.scaleClusters <= 10 || o.scale < 1000 {
		return errors.New("-scale must be at least 1000 and -scale-clusters more than 10")
	}
	rep, err := benchmark(ctx, o, stderr)
	if rep != nil {
		rep.print(stdout)
		if o.jsonOut != "" {
			if werr := rep.writeJSON(o.jsonOut); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

// defaultCPUs splits the machine in two halves: the first for the server,
// the rest for the load generator. With one CPU nothing is pinned.
func defaultCPUs(server bool) string {
	n := runtime.NumCPU()
	if n < 2 {
		return ""
	}
	half := n / 2
	if server {
		return cpuRange(0, half-1)
	}
	return cpuRange(half, n-1)
}

func cpuRange(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}
