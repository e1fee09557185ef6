ALTER TABLE rm_mailboxes DROP COLUMN restricted;
