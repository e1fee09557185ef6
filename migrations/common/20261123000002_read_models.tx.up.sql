-- Read models, built by the projections from the events (see projections/).
-- Each projection's tables and its consumer-group offset change in the same
-- transaction.

CREATE TABLE IF NOT EXISTS rm_system (
	id INT PRIMARY KEY CHECK (id = 1),
	configured BOOLEAN NOT NULL DEFAULT FALSE,
	enabled BOOLEAN NOT NULL DEFAULT FALSE,
	settings TEXT,                      -- JSON, secrets only as has* flags
	support_address TEXT,
	allow_tenant_address BOOLEAN NOT NULL DEFAULT FALSE,
	attach_system_info BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS rm_tenants (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	allow_system_server BOOLEAN NOT NULL,
	allow_own_server BOOLEAN NOT NULL,
	mailbox_quota INT NOT NULL,
	user_address_as_sender BOOLEAN NOT NULL,
	duplicate_policy TEXT NOT NULL,
	bulk_limit_lifted BOOLEAN NOT NULL,
	server TEXT,                        -- JSON, secrets only as has* flags
	support_address TEXT,
	seq BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rm_users (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	login_name TEXT NOT NULL,
	display_name TEXT NOT NULL,
	email TEXT NOT NULL,
	email_key TEXT NOT NULL,
	role TEXT NOT NULL,
	blocked BOOLEAN NOT NULL DEFAULT FALSE,
	seq BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_users_tenant_idx ON rm_users (tenant_id, seq);

CREATE TABLE IF NOT EXISTS rm_groups (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	name TEXT NOT NULL,
	seq BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_groups_tenant_idx ON rm_groups (tenant_id, seq);

CREATE TABLE IF NOT EXISTS rm_group_members (
	group_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS rm_group_members_user_idx ON rm_group_members (user_id);

CREATE TABLE IF NOT EXISTS rm_mailboxes (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	address TEXT NOT NULL,
	address_key TEXT NOT NULL,
	display_name TEXT NOT NULL,
	sender BOOLEAN NOT NULL,
	reply_to BOOLEAN NOT NULL,
	global BOOLEAN NOT NULL,
	settings TEXT,                      -- JSON, secrets only as has* flags; NULL: not authenticated
	grant_count INT NOT NULL DEFAULT 0,
	seq BIGINT NOT NULL                 -- position of MailboxAdded: lower is older (R15)
);
CREATE INDEX IF NOT EXISTS rm_mailboxes_tenant_idx ON rm_mailboxes (tenant_id, grant_count);
-- rm_mailboxes_global_idx is per dialect: 20261207190001_global_mailboxes_index.

CREATE TABLE IF NOT EXISTS rm_mailbox_grants (
	mailbox_id TEXT NOT NULL,
	grantee_kind TEXT NOT NULL,         -- user or group
	grantee_id TEXT NOT NULL,
	grantee_tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	PRIMARY KEY (mailbox_id, grantee_kind, grantee_id)
);
CREATE INDEX IF NOT EXISTS rm_mailbox_grants_grantee_idx ON rm_mailbox_grants (grantee_id);

-- Per-user access to restricted mailboxes (R11/R12), direct or through a
-- group; open mailboxes are found by tenant at read time, so one switch is
-- one row, not one per user.
CREATE TABLE IF NOT EXISTS rm_access (
	user_id TEXT NOT NULL,
	mailbox_id TEXT NOT NULL,
	via TEXT NOT NULL,                  -- "user" or the group id
	PRIMARY KEY (user_id, mailbox_id, via)
);
CREATE INDEX IF NOT EXISTS rm_access_mailbox_idx ON rm_access (mailbox_id);

CREATE TABLE IF NOT EXISTS rm_tokens (
	id TEXT PRIMARY KEY,
	user_id TEXT,
	tenant_id TEXT,
	role TEXT,
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_at TEXT NOT NULL,
	last_used_at TEXT,
	revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS rm_tokens_user_idx ON rm_tokens (user_id);

CREATE TABLE IF NOT EXISTS rm_audit (
	position BIGINT PRIMARY KEY,        -- the event's global position (offset)
	at TEXT NOT NULL,
	actor TEXT NOT NULL,
	tenant_id TEXT,
	action TEXT NOT NULL,
	stream_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	changes TEXT NOT NULL               -- JSON [{field, from, to}], secrets never as values
);
CREATE INDEX IF NOT EXISTS rm_audit_tenant_idx ON rm_audit (tenant_id, position);
CREATE INDEX IF NOT EXISTS rm_audit_stream_idx ON rm_audit (stream_id, position);
CREATE INDEX IF NOT EXISTS rm_audit_at_idx ON rm_audit (at);

-- The audit projection's memory of each stream's last known field values,
-- to tell from → to.
CREATE TABLE IF NOT EXISTS rm_audit_fields (
	stream_id TEXT NOT NULL,
	field TEXT NOT NULL,
	value TEXT,
	PRIMARY KEY (stream_id, field)
);
