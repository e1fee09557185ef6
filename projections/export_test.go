package projections

// The audit log's settings rules, for the catalogue test.
var (
	AuditClearsSettings   = clearsSettings
	AuditReplacesSettings = replacesSettings
)

// SetRebuildBeforeLock runs fn before Rebuild takes its group's lock, for
// the rest of the test.
func SetRebuildBeforeLock(t interface{ Cleanup(func()) }, fn func()) {
	rebuildBeforeLock = fn
	t.Cleanup(func() { rebuildBeforeLock = nil })
}

// SetCatchUpChunk makes CatchUp commit every n events, for the rest of the
// test.
func SetCatchUpChunk(t interface{ Cleanup(func()) }, n int64) {
	old := catchUpChunk
	catchUpChunk = n
	t.Cleanup(func() { catchUpChunk = old })
}
