package projections

// The audit log's settings rules, for the catalogue test.
var (
	AuditClearsSettings   = clearsSettings
	AuditReplacesSettings = replacesSettings
)
