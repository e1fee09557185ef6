-- A consumer batch ends on an append boundary, found by transaction_id
-- (the append group on SQLite); without this index a consumer far behind
-- scanned the log back from its end for every batch.
CREATE INDEX IF NOT EXISTS events_transaction_idx ON events (transaction_id);
