//go:build !unix

package sqlite

import "time"

// processCPU reports that the process CPU time is unknown here.
func processCPU() (time.Duration, bool) { return 0, false }
