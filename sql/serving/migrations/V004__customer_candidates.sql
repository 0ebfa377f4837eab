-- What the API ranks for each customer besides the propensity picks it takes from its shelf: the
-- retrieval's candidates (FEATURE_STORE.CUSTOMER_CANDIDATES, sql/recommendations/candidates.sql), the
-- very set the ranking model was trained and evaluated on. Read per request by one indexed range.
CREATE TABLE IF NOT EXISTS {{ schema }}.customer_candidates (
  customer_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  PRIMARY KEY (customer_id, product_id)
);
