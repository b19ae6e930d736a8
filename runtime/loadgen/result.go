package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Why a run ended.
const (
	StoppedByCount    = "count"    // every planned operation completed
	StoppedByDuration = "duration" // Config.Duration elapsed first
)

// Result is the outcome of one workload run.
type Result struct {
	// Workload is "connect", "dm" or "fanout".
	Workload string `json:"workload"`
	// Count is the number of operations completed in the measured phase: connections
	// (connect) or messages (dm, fanout).
	Count int `json:"count"`
	// Planned is Config.Count.
	Planned int `json:"planned"`
	// StoppedBy is StoppedByCount or StoppedByDuration.
	StoppedBy string `json:"stopped_by"`
	// Elapsed is the duration of the measured phase (setup and teardown excluded).
	Elapsed time.Duration `json:"elapsed_ns"`
	// Rate is the throughput of the measured phase in RateUnit.
	Rate float64 `json:"rate"`
	// RateUnit names what Rate counts per second: "connects/s", "messages/s" or
	// "deliveries/s".
	RateUnit string `json:"rate_unit"`
	// Latency summarises the per-operation latencies; nil when none were measured.
	Latency *Latency `json:"latency,omitempty"`
	// Extra holds workload-specific figures, e.g. "rss_bytes_per_conn" (connect),
	// "messages_per_s" (fanout), ExtraServerCPUPerOp and ExtraNodes (every workload).
	Extra map[string]float64 `json:"extra,omitempty"`
	// Unmeasured names the figures a run could not take, each with the reason (for
	// instance ExtraServerCPUPerOp without Config.ServerPIDs). A figure is in Extra or here,
	// never in both.
	Unmeasured map[string]string `json:"unmeasured,omitempty"`
}

// setExtra records a figure.
func (r *Result) setExtra(key string, v float64) {
	if r.Extra == nil {
		r.Extra = map[string]float64{}
	}
	r.Extra[key] = v
	delete(r.Unmeasured, key)
}

// setUnmeasured records why a figure is absent.
func (r *Result) setUnmeasured(key, reason string) {
	if r.Unmeasured == nil {
		r.Unmeasured = map[string]string{}
	}
	r.Unmeasured[key] = reason
	delete(r.Extra, key)
}

// opName is what one operation of a workload is, for the CPU-per-operation row.
func opName(workload string) string {
	switch workload {
	case "connect":
		return "connect"
	case "fanout":
		return "delivery"
	default:
		return "message"
	}
}

// Latency holds nearest-rank percentiles of a latency sample.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// summarize returns the percentiles of samples (sorted in place), or nil for no samples.
func summarize(samples []time.Duration) *Latency {
	if len(samples) == 0 {
		return nil
	}
	slices.Sort(samples)
	return &Latency{
		P50: percentile(samples, 50),
		P90: percentile(samples, 90),
		P99: percentile(samples, 99),
		Max: samples[len(samples)-1],
	}
}

// percentile is the nearest-rank p-th percentile of sorted (non-empty).
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// rate is n per second over d (0 for a zero duration).
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Table formats the result as an aligned two-column table for terminals.
func (r Result) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "workload\t%s\n", r.Workload)
	fmt.Fprintf(w, "count\t%d of %d (stopped by %s)\n", r.Count, r.Planned, r.StoppedBy)
	fmt.Fprintf(w, "elapsed\t%s\n", r.Elapsed.Round(time.Microsecond))
	fmt.Fprintf(w, "rate\t%.0f %s\n", r.Rate, r.RateUnit)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "latency p50\t%s\n", fmtDur(l.P50))
		fmt.Fprintf(w, "latency p90\t%s\n", fmtDur(l.P90))
		fmt.Fprintf(w, "latency p99\t%s\n", fmtDur(l.P99))
		fmt.Fprintf(w, "latency max\t%s\n", fmtDur(l.Max))
	}
	keys := slices.Collect(maps.Keys(r.Extra))
	for k := range r.Unmeasured {
		if _, dup := r.Extra[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := r.Extra[k]
		switch {
		case !ok:
			fmt.Fprintf(w, "%s\tnot measured: %s\n", k, r.Unmeasured[k])
		case k == ExtraServerCPUPerOp:
			fmt.Fprintf(w, "%s\t%.0f ns per %s\n", k, v, opName(r.Workload))
		default:
			fmt.Fprintf(w, "%s\t%s\n", k, fmtFloat(v))
		}
	}
	_ = w.Flush() // writes to a strings.Builder cannot fail
	return b.String()
}

// fmtDur prints a latency with three significant decimals in a fitting unit.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	}
}

// fmtFloat prints integers without decimals and other values with two.
func fmtFloat(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}
