-- Nothing to do: the primary key (transaction_id, "offset") serves the
-- consumers' batch boundaries on PostgreSQL. (Kept so both dialects share
-- migration numbers.)
SELECT 1;
