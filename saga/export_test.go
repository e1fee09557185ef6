package saga

// SetBeforeBatchEnd sets the resolver's test hook (beforeBatchEnd) until
// the returned func resets it; set it before the saga runs and reset it
// after it stopped.
func SetBeforeBatchEnd(hook func(events int) error) (reset func()) {
	beforeBatchEnd = hook
	return func() { beforeBatchEnd = nil }
}
