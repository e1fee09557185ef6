-- The event store and the watermill-sql topic are one table: an append is a
-- watermill Publish inside the command's transaction, and consumer groups
-- (projections, the saga, the broker forwarder) read it in commit order
-- through (transaction_id, "offset"). "offset" is the global position.
CREATE TABLE IF NOT EXISTS events (
	"offset" BIGSERIAL,
	"uuid" VARCHAR(36) NOT NULL,
	"created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"payload" JSON DEFAULT NULL,
	"metadata" JSON DEFAULT NULL,
	"transaction_id" xid8 NOT NULL,
	stream_type TEXT NOT NULL,
	stream_id TEXT NOT NULL,
	version BIGINT NOT NULL CHECK (version > 0),
	event_type TEXT NOT NULL,
	schema_version INT NOT NULL CHECK (schema_version > 0),
	PRIMARY KEY ("transaction_id", "offset"),
	CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
	CONSTRAINT events_uuid_key UNIQUE ("uuid")
);

CREATE UNIQUE INDEX IF NOT EXISTS events_offset_idx ON events ("offset");

-- One row per consumer group: where it stands in the log. Written in the
-- same transaction as the consumer's read-model change.
CREATE TABLE IF NOT EXISTS events_offsets (
	consumer_group VARCHAR(255) NOT NULL PRIMARY KEY,
	offset_acked BIGINT,
	last_processed_transaction_id xid8 NOT NULL
);
