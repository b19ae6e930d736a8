// Package ratelimit implements per-key token buckets for the server's rate
// limits (REFERENCE 2.8 and 20 Q8: per agent, 60 messages/min and 120
// requests/min by default; excess requests fail with −32004 RateLimited and
// data.retryAfterMs, the socket stays open).
//
// Each bucket is kept as a single "theoretical arrival time" (the generic
// cell rate algorithm), which is exactly equivalent to a token bucket that
// holds up to burst tokens and refills one token every minute/rate: a key
// that has been idle long enough holds a full bucket.
//
// Memory stays bounded because a bucket that has refilled completely carries
// no information and is dropped. Allow sweeps lazily: every max(1024,
// 2×buckets) calls it scans the map once and deletes the full buckets (an
// amortised O(1) per call), and shrinks the map when most of it is gone.
// Callers may also run Sweep from a ticker of their own.
//
// In a cluster a key's events are admitted on several nodes: Track records what
// Allow admitted, TakeUsage hands it out for the other nodes, and Charge takes
// what they admitted out of the local bucket (which may then run into debt by
// at most one burst). The accuracy is the usage exchange's delay: see
// docs/cluster.md.
package ratelimit
