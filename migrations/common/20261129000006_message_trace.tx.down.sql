ALTER TABLE rm_messages DROP COLUMN trace_parent;
