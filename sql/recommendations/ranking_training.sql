-- What the ranking model's training and offline evaluation read besides the pair signals
-- (pair_signals.sql) and the category propensity (customer_category_features.sql): the customers and
-- their ZIP codes, the catalogue, in-stock inventory, and who bought what in a label window.

-- name: customers
SELECT CUSTOMER_ID, ZIP_CODE, HAS_APP, LOYALTY_TIER FROM {{ customers }} ORDER BY CUSTOMER_ID LIMIT {{ max_customers }};

-- name: products
SELECT PRODUCT_ID, CATEGORY_ID, BRAND, PRICE FROM {{ products }};

-- name: in_stock
SELECT REGION, PRODUCT_ID, QTY_ON_HAND, EST_DELIVERY_DAYS FROM {{ inventory }} WHERE QTY_ON_HAND > 0
ORDER BY REGION, PRODUCT_ID;

-- name: bought_between
SELECT DISTINCT CUSTOMER_ID, PRODUCT_ID FROM {{ events }}
WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase')
  AND EVENT_TIMESTAMP >= CAST(%s AS TIMESTAMP) AND EVENT_TIMESTAMP < CAST(%s AS TIMESTAMP);

