-- R35: events a consumer group set aside because it failed on them for
-- good, and the later events of the same stream it set aside to keep the
-- stream's order. Owned by package eventstore; a retry (absender
-- projections retry-parked) or a rebuild of the group deletes the rows.
-- error is a bounded text without payload contents.
CREATE TABLE IF NOT EXISTS parked_events (
	consumer_group TEXT NOT NULL,
	"offset" BIGINT NOT NULL,
	transaction_id BIGINT NOT NULL DEFAULT 0,
	event_id TEXT NOT NULL,
	stream_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	error TEXT NOT NULL,
	parked_at TEXT NOT NULL,
	PRIMARY KEY (consumer_group, "offset")
);
CREATE INDEX IF NOT EXISTS parked_events_stream_idx ON parked_events (consumer_group, stream_id);
