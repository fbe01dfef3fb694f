// Command flexd serves the Atlas Administration API v2 for Flex clusters,
// their backup snapshots, downloads and restore jobs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flexd:", err)
		os.Exit(exitCode(err))
	}
}
