package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a server the benchmark started: flexd or the ceiling.
type process struct {
	cmd   *exec.Cmd
	addr  string
	log   *bytes.Buffer
	ready time.Duration // from exec to the first 200 of /readyz
}

// buildFlexd compiles ./cmd/flexd of the module the benchmark runs in.
func buildFlexd(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "flexd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/flexd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/flexd: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run flexd-bench inside the flexd module (or pass -flexd)")
	}
	return filepath.Dir(mod), nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// pinned prefixes argv with taskset when cpus is set and taskset exists.
func pinned(cpus string, argv []string) []string {
	if cpus == "" {
		return argv
	}
	if ts, err := exec.LookPath("taskset"); err == nil {
		return append([]string{ts, "-c", cpus}, argv...)
	}
	return argv
}

// pinSelf moves every thread of this process onto cpus, so that the load
// generator does not compete with the server it measures.
func pinSelf(cpus string) bool {
	ts, err := exec.LookPath("taskset")
	if cpus == "" || err != nil {
		return false
	}
	return exec.Command(ts, "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).Run() == nil
}

// startProcess starts argv with env, waits until GET readyPath on addr
// answers 200 and records how long that took.
func startProcess(ctx context.Context, argv, env []string, addr, readyPath string) (*process, error) {
	p := &process{addr: addr, log: &bytes.Buffer{}}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	probe := request("GET", readyPath, addr, nil, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := dial(addr); err == nil {
			var resp response
			err = c.do(probe, &resp)
			c.Close()
			if err == nil && resp.status == 200 {
				p.ready = time.Since(t0)
				go func() { <-exited }()
				return p, nil
			}
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s exited before ready: %v\n%s", argv[len(argv)-1], err, p.log)
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(500 * time.Microsecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("not ready after 30s:\n%s", p.log)
		}
	}
}

// stop asks the process to shut down (SIGTERM) and waits a little.
func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	for range 100 {
		if p.cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
}

func (p *process) kill() {
	if p != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// rss reads the process's resident set size from /proc, in bytes; 0 where
// there is no /proc.
func (p *process) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// flexdHelp returns `flexd serve --help`, which tells the benchmark which
// knobs this build has.
func flexdHelp(bin string) string {
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	return string(out)
}

// sampleRSS samples the process's RSS every period until the returned
// function is called, which returns the peak seen.
func (p *process) sampleRSS(every time.Duration) (peak func() int64) {
	done, peakc := make(chan struct{}), make(chan int64, 1)
	go func() {
		var peak int64
		for {
			peak = max(peak, p.rss())
			select {
			case <-done:
				peakc <- peak
				return
			case <-time.After(every):
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-peakc
	}
}
