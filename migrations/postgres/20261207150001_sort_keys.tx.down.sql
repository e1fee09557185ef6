DROP INDEX IF EXISTS rm_tenants_sort_idx;
DROP INDEX IF EXISTS rm_users_sort_idx;
DROP INDEX IF EXISTS rm_groups_sort_idx;
DROP INDEX IF EXISTS rm_mailboxes_sort_idx;
ALTER TABLE rm_tenants DROP COLUMN IF EXISTS sort_key, DROP COLUMN IF EXISTS search_key;
ALTER TABLE rm_users DROP COLUMN IF EXISTS sort_key, DROP COLUMN IF EXISTS search_key;
ALTER TABLE rm_groups DROP COLUMN IF EXISTS sort_key, DROP COLUMN IF EXISTS search_key;
ALTER TABLE rm_mailboxes DROP COLUMN IF EXISTS sort_key, DROP COLUMN IF EXISTS search_key;
