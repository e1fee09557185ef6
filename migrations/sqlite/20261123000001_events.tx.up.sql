-- The event store. With a single writer, "offset" order is commit order, so
-- consumer groups read by "offset" alone (transaction_id stays 0).
CREATE TABLE IF NOT EXISTS events (
	"offset" INTEGER PRIMARY KEY AUTOINCREMENT,
	"uuid" TEXT NOT NULL,
	"created_at" TEXT NOT NULL,
	"payload" BLOB,
	"metadata" BLOB,
	"transaction_id" INTEGER NOT NULL DEFAULT 0,
	stream_type TEXT NOT NULL,
	stream_id TEXT NOT NULL,
	version INTEGER NOT NULL CHECK (version > 0),
	event_type TEXT NOT NULL,
	schema_version INTEGER NOT NULL CHECK (schema_version > 0),
	CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
	CONSTRAINT events_uuid_key UNIQUE ("uuid")
);

CREATE TABLE IF NOT EXISTS events_offsets (
	consumer_group TEXT NOT NULL PRIMARY KEY,
	offset_acked INTEGER,
	last_processed_transaction_id INTEGER NOT NULL DEFAULT 0
);
