//go:build !unix

package migrations

// lockFile is a no-op where flock(2) is missing: processes migrating one
// SQLite file at once are not serialised there.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
