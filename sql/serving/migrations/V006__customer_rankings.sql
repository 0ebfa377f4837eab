-- Each customer's answer, computed by the sync with the API's own code (orchestrator/precompute.py), so
-- a request reads one row instead of ranking some 350 candidates. One row per customer, for their home
-- region: the top 10 items as the API would send them (JSON, rank order, each with its `why`), the
-- sha256 of the ranking model that scored them and the OIDs of the tables they were read from (in
-- the order of backends.RANKED_FROM). The API serves the row only while the live tables have those
-- OIDs, the model it holds has that digest and the request is for that region and at most 10 items;
-- anything else is answered by the full path.
CREATE TABLE IF NOT EXISTS {{ schema }}.customer_rankings (
  customer_id BIGINT PRIMARY KEY,
  region TEXT NOT NULL,
  model TEXT NOT NULL,
  versions BIGINT[] NOT NULL,
  items TEXT[] NOT NULL
);
-- The region a customer's ranking is computed for: their ZIP code's, as the warehouse's retrieval
-- takes it (infra/recommendations/catalog.py home_region_sql).
ALTER TABLE {{ schema }}.customer_features ADD COLUMN IF NOT EXISTS home_region TEXT;
