-- R25: message content outside the event log. Each message's bodies and
-- attachments are encrypted with a key of their own (AES-256-GCM); that key
-- is stored sealed by the key ring. Purging (retention or an
-- administrator) erases key and ciphertext; the events keep what was sent
-- to whom. Primary data, not a read model: a rebuild keeps it.
CREATE TABLE IF NOT EXISTS message_contents (
	message_id TEXT PRIMARY KEY,
	sealed_key TEXT,                    -- NULL once purged
	content BLOB,                      -- NULL once purged
	retain_until BIGINT NOT NULL        -- Unix milliseconds
);
CREATE INDEX IF NOT EXISTS message_contents_retain_idx ON message_contents (retain_until) WHERE sealed_key IS NOT NULL;

-- The messages read model (SPEC §4 Message) and the delivery workers'
-- queue: due_at says when a worker should look at a message next.
CREATE TABLE IF NOT EXISTS rm_messages (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	user_id TEXT,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	sender TEXT NOT NULL,               -- the From header
	reply_to TEXT,
	recipients TEXT NOT NULL,           -- JSON {"to": [...], "cc": [...]}
	subject TEXT NOT NULL,
	transport TEXT,
	mailbox_id TEXT,
	attempts INT NOT NULL DEFAULT 0,
	last_error TEXT,
	header_id TEXT,
	refused TEXT NOT NULL DEFAULT '[]', -- JSON array of refused recipients
	resolution TEXT,                    -- JSON message.Resolution
	purged BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	seq BIGINT NOT NULL,                -- position of MessageQueued: newest first
	due_at BIGINT                       -- Unix milliseconds; NULL: nothing to do
);
CREATE INDEX IF NOT EXISTS rm_messages_tenant_idx ON rm_messages (tenant_id, seq);
CREATE INDEX IF NOT EXISTS rm_messages_user_idx ON rm_messages (user_id, seq);
CREATE INDEX IF NOT EXISTS rm_messages_due_idx ON rm_messages (due_at) WHERE due_at IS NOT NULL;
