ALTER TABLE rm_messages ADD COLUMN due_at BIGINT;
UPDATE rm_messages SET due_at = (SELECT CASE WHEN s.sending THEN s.due_at - 120000 ELSE s.due_at END
	FROM saga_schedule s WHERE s.message_id = rm_messages.id);
CREATE INDEX IF NOT EXISTS rm_messages_due_idx ON rm_messages (due_at) WHERE due_at IS NOT NULL;
DROP TABLE IF EXISTS saga_leases;
DROP TABLE IF EXISTS saga_schedule;
