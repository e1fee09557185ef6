-- Issue 11: message operations. The attempt log of each message (R23),
-- owned by the messages projection: one row per attempt, at most
-- RetryPolicy.MaxAttempts (8 by default) per message.
CREATE TABLE IF NOT EXISTS rm_message_attempts (
	message_id TEXT NOT NULL,
	number INT NOT NULL,
	at TEXT NOT NULL,                   -- when the attempt was recorded
	transport TEXT NOT NULL,
	outcome TEXT NOT NULL,              -- PENDING SENT TEMPORARY_FAILURE INTERRUPTED FAILED
	smtp_code INT,
	detail TEXT,                        -- the server's reply or the failure reason
	PRIMARY KEY (message_id, number)
);
-- When the next attempt is due (QUEUED, RETRYING), NULL otherwise; unlike
-- due_at the workers' claims never move it.
ALTER TABLE rm_messages ADD COLUMN next_attempt_at TEXT;
-- messages without a tenant (system administrators, auditors): newest first.
CREATE INDEX IF NOT EXISTS rm_messages_seq_idx ON rm_messages (seq);
