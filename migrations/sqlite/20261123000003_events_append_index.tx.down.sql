DROP INDEX IF EXISTS events_transaction_idx;
