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

// InlineOnly registers the runner's projections for the in-transaction
// apply (eventstore.Store.Inline) without consuming, as Run does once
// their tables are ready; remove ends it.
func InlineOnly(r *Runner) (remove func()) {
	var removes []func()
	for _, p := range r.projections {
		removes = append(removes, r.store.Inline(p.Name(), r.inlineApply(p)))
	}
	return func() {
		for _, f := range removes {
			f()
		}
	}
}
