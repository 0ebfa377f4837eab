-- Serving tables the recommendation API reads (seed 001), keyed as the API looks them up.
CREATE SCHEMA IF NOT EXISTS {{ schema }};

CREATE TABLE IF NOT EXISTS {{ schema }}.customer_features (
  customer_id BIGINT PRIMARY KEY,
  age INT,
  tenure_months INT,
  loyalty_tier_num INT,
  total_orders INT,
  lifetime_spend DOUBLE PRECISION,
  avg_order_value DOUBLE PRECISION,
  days_since_purchase INT,
  categories_purchased INT,
  total_browse_events INT,
  total_sessions INT,
  avg_browsed_price DOUBLE PRECISION,
  add_to_cart_count INT,
  cart_abandonment_rate DOUBLE PRECISION,
  store_ratio DOUBLE PRECISION,
  engagement_score DOUBLE PRECISION
);

CREATE TABLE IF NOT EXISTS {{ schema }}.customer_propensity (
  customer_id BIGINT NOT NULL,
  category_id TEXT NOT NULL,
  propensity_score DOUBLE PRECISION,
  PRIMARY KEY (customer_id, category_id)
);

-- Zero-stock rows are kept (qty_on_hand = 0): the table mirrors the warehouse's inventory exactly,
-- and the API filters qty_on_hand > 0 through the partial index below.
CREATE TABLE IF NOT EXISTS {{ schema }}.inventory (
  region TEXT NOT NULL,
  product_id BIGINT NOT NULL,
  warehouse_name TEXT,
  qty_on_hand INT NOT NULL CHECK (qty_on_hand >= 0),
  est_delivery_days INT,
  PRIMARY KEY (region, product_id)
);
CREATE INDEX IF NOT EXISTS inventory_in_stock_idx ON {{ schema }}.inventory (region, product_id) WHERE qty_on_hand > 0;
