-- The W3C trace context of the request that queued a message, so the
-- delivery workers' spans join its trace (issue 6).
ALTER TABLE rm_messages ADD COLUMN trace_parent TEXT;
