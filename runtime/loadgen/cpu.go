package loadgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"time"
)

// Keys of the server CPU figures in Result.Extra (and Result.Unmeasured).
const (
	// ExtraServerCPUPerOp is the server's CPU time (user + system, summed over
	// Config.ServerPIDs) in the measured phase divided by the operations completed: per
	// connect (Connect), per message (DM), per delivery (Fanout), in nanoseconds.
	ExtraServerCPUPerOp = "server_cpu_ns_per_op"
	// ExtraServerCPU is the server's CPU time in the measured phase (summed over
	// Config.ServerPIDs), in nanoseconds.
	ExtraServerCPU = "server_cpu_ns"
)

// ExtraNodes is the key in Result.Extra of the number of server nodes the sockets were
// spread over (1 + len(Config.NodeURLs)).
const ExtraNodes = "nodes"

// Clock ticks of /proc/<pid>/stat.
const (
	// atClockTick is AT_CLKTCK, the auxiliary vector entry in which the kernel passes its
	// USER_HZ, the value sysconf(_SC_CLK_TCK) returns.
	atClockTick = 17
	// defaultClockTicks is USER_HZ on every current Linux architecture, used when the
	// auxiliary vector cannot be read.
	defaultClockTicks = 100
)

// ProcessCPU returns the CPU time process pid has used so far, user and system together:
// utime + stime of /proc/<pid>/stat (Linux only), counted in clock ticks (USER_HZ, read
// from the auxiliary vector like sysconf(_SC_CLK_TCK) does; 100 a second, so 10 ms, on
// Linux). A difference of two samples is therefore exact only to a tick.
func ProcessCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("process id %d: want a positive number", pid)
	}
	if runtime.GOOS != "linux" {
		return 0, fmt.Errorf("reading the CPU time of process %d needs Linux (/proc)", pid)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("no process %d (no /proc/%d/stat)", pid, pid)
	}
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStatTicks(b)
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return ticksToDuration(ticks, clockTicks()), nil
}

// parseStatTicks returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// second field, the command name in parentheses, may itself hold spaces and parentheses,
// so the fields are counted from the last ')'.
func parseStatTicks(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no command name")
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the command name", len(f))
	}
	var sum int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("malformed /proc stat: CPU time %q", s)
		}
		sum += n
	}
	return sum, nil
}

// ticksToDuration converts clock ticks at hz a second into a duration.
func ticksToDuration(ticks, hz int64) time.Duration {
	return time.Duration(ticks/hz)*time.Second + time.Duration(ticks%hz)*time.Second/time.Duration(hz)
}

// clockTicks returns USER_HZ from this process's auxiliary vector (/proc/self/auxv), or
// defaultClockTicks when it cannot be read.
func clockTicks() int64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return defaultClockTicks
	}
	if hz := auxvValue(b, strconv.IntSize/8, binary.NativeEndian, atClockTick); hz > 0 {
		return int64(hz)
	}
	return defaultClockTicks
}

// auxvValue returns the value of key in an auxiliary vector (pairs of native words ending
// with AT_NULL), or 0 when it is absent.
func auxvValue(auxv []byte, word int, order binary.ByteOrder, key uint64) uint64 {
	read := func(b []byte) uint64 {
		if word == 4 {
			return uint64(order.Uint32(b))
		}
		return order.Uint64(b)
	}
	for ; len(auxv) >= 2*word; auxv = auxv[2*word:] {
		switch k := read(auxv); k {
		case 0: // AT_NULL
			return 0
		case key:
			return read(auxv[word:])
		}
	}
	return 0
}

// cpuProbe measures the CPU time of the server's processes over the measured phase of a
// workload.
type cpuProbe struct {
	pids   []int
	start  time.Duration // the processes' CPU time at the start, summed
	reason string        // why the figure is not measured; empty while it is
}

// reasonNoPID is the Unmeasured reason of the server figures when Config.ServerPIDs is
// empty.
const reasonNoPID = "the server's process id is unknown (Config.ServerPIDs is empty)"

// startCPU takes the first sample; it is called just before the measured phase.
func startCPU(pids []int) *cpuProbe {
	p := &cpuProbe{pids: pids}
	if len(pids) == 0 {
		p.reason = reasonNoPID
		return p
	}
	var err error
	if p.start, err = processesCPU(pids); err != nil {
		p.reason = err.Error()
	}
	return p
}

// finish takes the second sample, just after the measured phase, and records the CPU
// time per operation (ops of them completed) in res, or why it is not measured.
func (p *cpuProbe) finish(res *Result, ops int64) {
	if p.reason == "" {
		end, err := processesCPU(p.pids)
		used := end - p.start
		switch {
		case err != nil:
			p.reason = err.Error()
		case ops <= 0:
			p.reason = "no operation completed"
		case used <= 0:
			p.reason = fmt.Sprintf("the server used less than one clock tick (%s) of CPU in the measured phase; run longer",
				ticksToDuration(1, clockTicks()))
		default:
			res.setExtra(ExtraServerCPU, float64(used))
			res.setExtra(ExtraServerCPUPerOp, float64(used)/float64(ops))
			return
		}
	}
	res.setUnmeasured(ExtraServerCPUPerOp, p.reason)
}

// processesCPU returns the CPU time the processes have used so far, summed.
func processesCPU(pids []int) (time.Duration, error) {
	var sum time.Duration
	for _, pid := range pids {
		d, err := ProcessCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}
