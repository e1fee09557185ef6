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
