package server

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/flexd/flexd/drill"
)

// drillCommand is `flexd drill` (package drill); its usage errors exit 2
// like the others.
func drillCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := drill.Command(ctx, args, getenv, stdout, stderr, "flexd-drill/"+buildVersion())
	if errors.Is(err, drill.ErrUsage) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

// healthcheck is `flexd healthcheck`: GET /healthz (or /readyz) of a
// flexd and exit 0 on 200. It is the container image's HEALTHCHECK, which
// has no shell or curl; by default it asks the address flexd serve would
// listen on (FLEXD_LISTEN), through loopback when that is a wildcard.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("flexd healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", getenv("FLEXD_HEALTHCHECK_URL"), "URL to GET (env FLEXD_HEALTHCHECK_URL; default: /healthz at FLEXD_LISTEN)")
	ready := fs.Bool("ready", false, "ask /readyz (the store is reachable) instead of /healthz")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	target := *url
	if target == "" {
		addr, err := probeAddress(cmp.Or(getenv("FLEXD_LISTEN"), "127.0.0.1:8080"))
		if err != nil {
			return fmt.Errorf("%w: FLEXD_LISTEN: %v", errUsage, err)
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		target = "http://" + addr + path
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s: %s", target, resp.Status)
	}
	fmt.Fprintf(stdout, "healthy: GET %s: %s\n", target, resp.Status)
	return nil
}

// probeAddress is where to reach a server listening on addr: a wildcard
// host is reached through loopback.
func probeAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}
