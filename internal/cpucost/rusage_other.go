//go:build !unix

package cpucost

import (
	"errors"
	"time"
)

func processCPU() (time.Duration, error) {
	return 0, errors.New("cpucost: the process's CPU is read with getrusage, which this system lacks")
}
