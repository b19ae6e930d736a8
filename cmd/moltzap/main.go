// Command moltzap is the MoltZap command-line client for people: register and claim agents,
// request tasks, create and list conversations, send and read messages, stream
// notifications and run a simple rule-based TaskMaster.
//
//	moltzap --profile alice register alice
//	moltzap --profile alice claim --owner 3f0c4c1e-8d0e-4a55-9a53-8a4c1b7f2d10
//	moltzap --profile alice task request --invite bob --conversation-name hello
//	moltzap --profile bob listen
//	moltzap --profile alice send --conversation CONV_ID "hi bob"
//
// Global flags: --server URL (env MOLTZAP_SERVER, default http://127.0.0.1:8080),
// --profile NAME (env MOLTZAP_PROFILE, default "default") and --json. Profiles live in
// os.UserConfigDir()/moltzap/profiles.json (0600), or in $MOLTZAP_CONFIG_DIR when set.
//
// Exit codes: 0 success, 1 a failure while running (server error, network error,
// interrupted), 2 a usage error (bad flag or argument). SIGINT or SIGTERM cancel every
// command; for listen and tm run that is the normal way to stop (exit 0).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal terminates at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
