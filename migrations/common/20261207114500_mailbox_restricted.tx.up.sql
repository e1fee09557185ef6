-- R11 fails closed: a mailbox is restricted from its first grant on until
-- an administrator opens it (MailboxRestrictionChanged.v1). NULL: its log
-- has no such event yet and the earlier rule holds (restricted while it
-- has a grant, grant_count > 0).
ALTER TABLE rm_mailboxes ADD COLUMN restricted BOOLEAN;
