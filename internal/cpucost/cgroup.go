package cpucost

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupLimit reads the CPU limit of the cgroup mounted at root, in cores:
// cgroup v2's cpu.max, or v1's cpu/cpu.cfs_quota_us over cpu.cfs_period_us.
// ok is false when there is none (unlimited, or nothing to read).
func cgroupLimit(root string) (cores float64, ok bool) {
	if raw, err := os.ReadFile(filepath.Join(root, "cpu.max")); err == nil {
		cores, ok, err := parseCPUMax(string(raw))
		return cores, ok && err == nil
	}
	quota, err := os.ReadFile(filepath.Join(root, "cpu", "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false
	}
	period, err := os.ReadFile(filepath.Join(root, "cpu", "cpu.cfs_period_us"))
	if err != nil {
		return 0, false
	}
	cores, ok, err = parseCFS(string(quota), string(period))
	return cores, ok && err == nil
}

// parseCPUMax parses cgroup v2's cpu.max, "$MAX $PERIOD" in microseconds
// ("max 100000": no limit; "150000 100000": 1.5 cores). The period may be
// left out, as when written; the kernel's default is 100000.
func parseCPUMax(s string) (cores float64, limited bool, err error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, false, fmt.Errorf("cpucost: cpu.max %.40q: want \"$MAX $PERIOD\"", s)
	}
	period := "100000"
	if len(f) == 2 {
		period = f[1]
	}
	if f[0] == "max" {
		if _, err := positive(period); err != nil {
			return 0, false, fmt.Errorf("cpucost: cpu.max %.40q: period: %w", s, err)
		}
		return 0, false, nil
	}
	return quotaOverPeriod(f[0], period)
}

// parseCFS parses cgroup v1's cpu.cfs_quota_us (-1: no limit) and
// cpu.cfs_period_us.
func parseCFS(quota, period string) (cores float64, limited bool, err error) {
	if strings.TrimSpace(quota) == "-1" {
		return 0, false, nil
	}
	return quotaOverPeriod(strings.TrimSpace(quota), strings.TrimSpace(period))
}

func quotaOverPeriod(quota, period string) (float64, bool, error) {
	q, err := positive(quota)
	if err != nil {
		return 0, false, fmt.Errorf("cpucost: cpu quota: %w", err)
	}
	p, err := positive(period)
	if err != nil {
		return 0, false, fmt.Errorf("cpucost: cpu period: %w", err)
	}
	return float64(q) / float64(p), true, nil
}

func positive(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, fmt.Errorf("%q is zero", s)
	}
	return v, nil
}
