-- The monitor's read of the Postgres serving tables' freshness (python -m scripts.monitor): the sync
-- analyzes each staged table before it swaps it in, so the last ANALYZE is the last sync.

-- name: serving_age
SELECT relname, EXTRACT(EPOCH FROM now() - GREATEST(last_analyze, last_autoanalyze))
FROM pg_stat_user_tables
WHERE schemaname = %s AND relname = ANY(%s);
