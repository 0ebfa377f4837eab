-- What the ranking model reads besides features, propensity and stock: each product's recent
-- popularity, and each customer's history per product (views, cart and checkout events, purchases),
-- from which services/features/pair.py derives brand shares, price level and repeat purchases.
CREATE TABLE IF NOT EXISTS {{ schema }}.product_popularity (
  product_id BIGINT PRIMARY KEY,
  purchases_30d INT NOT NULL,
  purchases_90d INT NOT NULL,
  purchases_365d INT NOT NULL
);

CREATE TABLE IF NOT EXISTS {{ schema }}.customer_product_interactions (
  customer_id BIGINT NOT NULL,
  product_id BIGINT NOT NULL,
  views INT NOT NULL,
  carts INT NOT NULL,
  purchases INT NOT NULL,
  days_since_purchase INT,
  PRIMARY KEY (customer_id, product_id)
);
