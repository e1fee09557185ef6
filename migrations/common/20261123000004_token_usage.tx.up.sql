-- When an API token was last used. Operational data, not an event (it
-- would double the log for every request): written at most once a minute
-- per token by the process that authenticated it; not part of any read
-- model, so a rebuild keeps it.
CREATE TABLE IF NOT EXISTS api_token_usage (
	token_id TEXT PRIMARY KEY,
	last_used_at TEXT NOT NULL
);
