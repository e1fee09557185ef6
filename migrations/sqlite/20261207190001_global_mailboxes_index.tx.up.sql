-- The index of global mailboxes, once part of 20261123000002_read_models
-- (the one line in which the dialects differ); IF NOT EXISTS: databases
-- migrated before already have it.
CREATE INDEX IF NOT EXISTS rm_mailboxes_global_idx ON rm_mailboxes (global, grant_count);
