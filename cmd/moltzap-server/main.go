// Command moltzap-server runs a MoltZap server on its embedded SQLite store.
//
//	moltzap-server --addr 127.0.0.1:8080 --data ./moltzap-data
//
// Every flag can also be set through the environment (MOLTZAP_ADDR, MOLTZAP_DATA, ...);
// a flag given on the command line wins. SIGINT or SIGTERM shut it down gracefully.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd()
	cmd.SetArgs(os.Args[1:])
	if err := cmd.ExecuteContext(ctx); err != nil {
		var ue *usageError
		if errors.As(err, &ue) || !isRunError(err) {
			fmt.Fprintf(os.Stderr, "moltzap-server: %v\nRun 'moltzap-server --help' for usage.\n", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "moltzap-server: %v\n", err)
		os.Exit(1)
	}
}
