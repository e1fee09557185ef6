DROP INDEX IF EXISTS rm_mailboxes_global_idx;
