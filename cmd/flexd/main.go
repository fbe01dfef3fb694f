// Command flexd serves the Atlas Administration API v2 for Flex clusters,
// their backup snapshots, downloads and restore jobs.
//
// The program lives in internal/server, so that flexdtest can start the
// same server inside a test process; main only supplies the process's
// context, arguments, environment and streams.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexd/flexd/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "flexd:", err)
		os.Exit(server.ExitCode(err))
	}
}
