-- What the API ranks for each customer besides the propensity picks it takes from its shelf: the
-- retrieval's candidates (FEATURE_STORE.CUSTOMER_CANDIDATES, sql/recommendations/candidates.sql), the
-- very set the ranking model was trained and evaluated on. One row per customer, the product ids
-- sorted: some 350 a customer, so a row per product would make this the largest serving table.
CREATE TABLE IF NOT EXISTS {{ schema }}.customer_candidates (
  customer_id BIGINT PRIMARY KEY,
  product_ids BIGINT[] NOT NULL
);
