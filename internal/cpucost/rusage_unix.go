//go:build unix

package cpucost

import (
	"fmt"
	"syscall"
	"time"
)

// processCPU is this process's CPU so far, user + system, every thread.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("cpucost: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
