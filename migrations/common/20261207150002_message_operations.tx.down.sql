DROP INDEX IF EXISTS rm_messages_seq_idx;
ALTER TABLE rm_messages DROP COLUMN next_attempt_at;
DROP TABLE IF EXISTS rm_message_attempts;
