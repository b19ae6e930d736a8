package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// residentBytes returns the resident set size (VmRSS) of process pid, from
// /proc/<pid>/status (Linux only).
func residentBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read VmRSS of process %d: %w", pid, err)
	}
	return parseVmRSS(b)
}

// residentSum returns the resident set sizes of the processes, summed.
func residentSum(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		n, err := residentBytes(pid)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// parseVmRSS extracts "VmRSS:   1234 kB" from a /proc/<pid>/status text, in bytes.
func parseVmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", bytes.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS value %q: %w", f[0], err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS line (kernel thread or not Linux?)")
}

// scrapeNodes reads the named unlabelled samples from every node's Prometheus endpoint and
// sums them; a sample some node does not expose is left out.
func (r *runner) scrapeNodes(ctx context.Context, names ...string) map[string]float64 {
	sum := map[string]float64{}
	for i, n := range r.cfg.nodes {
		got := r.scrapeMetrics(ctx, n.http, names...)
		for _, name := range names {
			v, ok := got[name]
			_, had := sum[name]
			switch {
			case ok && (i == 0 || had):
				sum[name] += v
			default:
				delete(sum, name)
			}
		}
	}
	return sum
}

// scrapeMetrics reads the named unlabelled samples from the Prometheus endpoint of the
// node whose HTTP base is base (GET /metrics). It is best effort: a server without the
// endpoint yields an empty map.
func (r *runner) scrapeMetrics(ctx context.Context, base string, names ...string) map[string]float64 {
	out := map[string]float64{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return out
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || !want[f[0]] {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out
}
