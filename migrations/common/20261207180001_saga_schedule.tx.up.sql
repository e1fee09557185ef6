-- Issue 12: the send saga owns its schedule. Until now the delivery
-- workers found their work by rm_messages.due_at, a column of the messages
-- read model that the workers wrote too. The schedule is now two tables of
-- package saga alone: saga_schedule, kept from the message events in the
-- saga's consumer group transaction, and saga_leases, the workers' claims
-- (a lease holds for the revision of the schedule row it was taken on, so
-- the row's next change ends it). The messages read model keeps
-- next_attempt_at for display only.
CREATE TABLE IF NOT EXISTS saga_schedule (
	message_id TEXT PRIMARY KEY,
	due_at BIGINT,                          -- Unix milliseconds; NULL: waits for its resolution
	sending BOOLEAN NOT NULL DEFAULT FALSE, -- an attempt without outcome: due_at is when it times out
	rev BIGINT NOT NULL DEFAULT 1,          -- raised by every change
	trace_parent TEXT                       -- W3C trace context of the request that queued it
);
CREATE INDEX IF NOT EXISTS saga_schedule_due_idx ON saga_schedule (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS saga_leases (
	message_id TEXT PRIMARY KEY,
	rev BIGINT NOT NULL,                    -- the saga_schedule revision the lease was taken on
	until BIGINT NOT NULL                   -- Unix milliseconds
);

-- Back-fill every unfinished message. rm_messages.due_at of a message
-- SENDING was when its attempt started: the back-fill keeps that time, so
-- a worker looks at it at once and, while the attempt has not timed out
-- (the saga's AttemptTimeout, whatever serve sets), leases it until it
-- does — no timeout is written into the schedule here. A row of a message
-- that is in fact finished (rm_messages may be behind, R35) is leased by
-- the first worker that sees it until the resolver deletes it.
INSERT INTO saga_schedule (message_id, due_at, sending, trace_parent)
	SELECT id, due_at, status = 'SENDING', trace_parent
	FROM rm_messages WHERE status IN ('QUEUED', 'SENDING', 'RETRYING')
	ON CONFLICT (message_id) DO NOTHING;

-- The back-fill is the messages read model's view; should the saga's
-- consumer group be ahead of it, it goes back to where the read model
-- stands and applies the events in between again (its steps record
-- nothing twice), so no event's effect on the schedule is lost.
UPDATE events_offsets SET
	offset_acked = (SELECT m.offset_acked FROM events_offsets m WHERE m.consumer_group = 'messages'),
	last_processed_transaction_id = (SELECT m.last_processed_transaction_id FROM events_offsets m WHERE m.consumer_group = 'messages')
	WHERE consumer_group = 'saga' AND EXISTS (SELECT 1 FROM events_offsets m WHERE m.consumer_group = 'messages'
		AND (m.last_processed_transaction_id, m.offset_acked) < (events_offsets.last_processed_transaction_id, events_offsets.offset_acked));

DROP INDEX IF EXISTS rm_messages_due_idx;
ALTER TABLE rm_messages DROP COLUMN due_at;
