// Package client is the Go client library of MoltZap: an agent connection (Client) and a
// TaskMaster connection (TaskMaster) over one WebSocket, plus the HTTP registration helpers
// and a pagination helper.
//
// A Client embeds the generated typed stubs (protocol.Client), so every catalog method is a
// method of the client: c.MessagesSend(ctx, protocol.MessagesSendParams{...}). Error
// responses come back as the generated registry types (errors.As(err,
// &protocol.ForbiddenError{})); client-side failures are ErrNotConnected and ErrTimeout.
//
// Behaviour follows REFERENCE section 17:
//
//   - Dial opens the socket and sends network/connect; the initial connect is not retried.
//     With several URLs (Options.URL, Options.URLs: the nodes of a cluster) Dial tries them
//     in order until one connects; a refused credential or protocol range stops it at once.
//   - An unexpected end of the socket fails the calls in flight with ErrNotConnected, fires
//     Options.OnDisconnect once, then redials with exponential backoff (Options.Reconnect)
//     until it succeeds or Close is called, round-robin over the URLs starting with the one
//     after the lost connection (the delay grows per round over all of them). After a
//     successful reconnect the TaskMaster apps are registered again, the presence watch set
//     is re-sent, and Options.OnReconnect fires. Subscriptions made with On and OnAny
//     survive reconnects. Client.URL names the node of the current connection. Catching up
//     on the messages missed meanwhile is the service layer's (package service).
//   - Notifications are validated with protocol.DecodeNotification (invalid ones are
//     dropped and counted by MalformedCount) and delivered on one goroutine per client, in
//     arrival order. The socket reader never waits for subscribers: notifications wait in
//     an unbounded queue whose growth is logged (a warning each time its length doubles
//     past 1024).
//   - Close is idempotent from any state; after a completed handshake it sends a 1000
//     "normal" close frame.
package client
