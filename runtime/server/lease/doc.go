// Package lease implements the in-memory dispatch lease registry of a MoltZap
// server (REFERENCE sections 12.4 to 12.6, Q2, Q3, Q4 and Q29).
//
// A Registry owns every lease of one server process. dispatch/request mints a
// PENDING lease (Mint); the verdict source resolves it exactly once (Resolve)
// to GRANTED, DENIED or HOLD; messages/send spends a granted lease (Claim,
// then Consume on commit or Unclaim when the insert failed); TTL expiry and
// recipient disconnects (ConnectionClosed) age leases out. Terminal leases
// stay readable (Get) for a retention window and are then removed.
//
// Every transition is atomic: the registry has one mutex and its critical
// sections only touch maps and a deadline heap. TTL and retention deadlines
// run on a single scheduler goroutine (a min-heap of deadlines and one
// timer), stopped by Close.
//
// The registry reports what happened through the Events interface. Events are
// queued inside the critical section that made the transition and delivered
// outside the lock, in transition order, by the goroutine that made the
// transition — or, when another goroutine is already delivering, by that
// goroutine right after the events queued before them. Handlers may call back
// into the Registry (except Close).
package lease
