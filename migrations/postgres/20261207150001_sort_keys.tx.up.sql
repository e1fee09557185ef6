-- Connections (SPEC §4) page tenants, users, groups and mailboxes by name,
-- case-folded, then id, with keyset pagination. sort_key is the folded
-- name (users and mailboxes: the display name); search_key the other
-- folded fields a search looks at (users: login name and e-mail;
-- mailboxes: address). Both are folded in Go (projections.Fold), the same
-- function a search uses, and compared byte-wise (COLLATE "C"), as Go sorts.
-- NULL: a row from before this migration; the directory projection fills
-- it in Go before it consumes (Directory.Prepare), and a rebuild writes
-- every row anew.
ALTER TABLE rm_tenants ADD COLUMN IF NOT EXISTS sort_key TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS search_key TEXT COLLATE "C";
ALTER TABLE rm_users ADD COLUMN IF NOT EXISTS sort_key TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS search_key TEXT COLLATE "C";
ALTER TABLE rm_groups ADD COLUMN IF NOT EXISTS sort_key TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS search_key TEXT COLLATE "C";
ALTER TABLE rm_mailboxes ADD COLUMN IF NOT EXISTS sort_key TEXT COLLATE "C", ADD COLUMN IF NOT EXISTS search_key TEXT COLLATE "C";
CREATE INDEX IF NOT EXISTS rm_tenants_sort_idx ON rm_tenants (sort_key, id);
CREATE INDEX IF NOT EXISTS rm_users_sort_idx ON rm_users (tenant_id, sort_key, id);
CREATE INDEX IF NOT EXISTS rm_groups_sort_idx ON rm_groups (tenant_id, sort_key, id);
CREATE INDEX IF NOT EXISTS rm_mailboxes_sort_idx ON rm_mailboxes (tenant_id, sort_key, id);
