package eventstore

import "testing"

// sqliteConstraint names the index of a SQLite unique violation from the
// driver's text, and "unique" for a text it does not know — also one
// shorter than the marker it looks for (a slice at -1 before).
func TestSQLiteConstraintName(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"constraint failed: UNIQUE constraint failed: events.uuid (2067)", "events_uuid_key"},
		{"constraint failed: UNIQUE constraint failed: events.stream_id, events.version (2067)", "events_stream_version_key"},
		{"constraint failed: UNIQUE constraint failed: rm_users.login (2067)", "unique"},
		{"short", "unique"},
		{"", "unique"},
	} {
		if got := sqliteConstraint(tc.msg); got != tc.want {
			t.Errorf("sqliteConstraint(%q): got %q, want %q", tc.msg, got, tc.want)
		}
	}
}
