package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// TaskMaster is a Client that also serves the TaskMaster callbacks on the reverse channel
// with an exhaustive protocol.TaskMasterHandlers table (a bounded queue of 8192; a callback
// outside the catalog is answered -32601) and (re-)registers its apps after every connect.
//
// Handlers run concurrently (bounded by the rpc layer), each with a context cancelled when
// its connection ends; an error implementing wire.Coded (such as protocol.ForbiddenError,
// the conventional deny) is sent as is, any other error as -32603.
type TaskMaster struct {
	*Client
}

// DialTaskMaster connects like Dial, then registers every app of apps with apps/register
// before returning; a registration failure fails the dial. After a reconnect the apps are
// registered again before the connection is used; a refused registration (the server may
// still hold the app for the dropped connection) fails that attempt, which is retried with
// the reconnect backoff.
func DialTaskMaster(ctx context.Context, opts Options, h protocol.TaskMasterHandlers, apps ...protocol.AppManifest) (*TaskMaster, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil TaskMasterHandlers", errBadOptions)
	}
	d := protocol.NewTaskMasterDispatcher(h)
	manifests := slices.Clone(apps)
	register := func(ctx context.Context, api *protocol.Client) error {
		var errs []error
		for _, m := range manifests {
			if _, err := api.AppsRegister(ctx, protocol.AppsRegisterParams{Manifest: m}); err != nil {
				errs = append(errs, fmt.Errorf("register app %s: %w", m.AppID, err))
				if connectionLost(err) {
					break
				}
			}
		}
		return errors.Join(errs...)
	}
	c, err := dial(ctx, opts, d.Dispatch, register)
	if err != nil {
		return nil, err
	}
	return &TaskMaster{Client: c}, nil
}
