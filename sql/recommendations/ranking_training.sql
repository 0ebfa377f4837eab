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

-- name: product_taste
-- Per product, from events in the 365 days before a cut-off: views by everyone (the browse
-- events Customer 360 counts) and the repeat rate of its category (share of the category's purchases
-- that repeat a product the buyer had bought, as candidates.sql), for services/features/taste.py.
WITH touched AS (
  SELECT CUSTOMER_ID, PRODUCT_ID, MAX(PRODUCT_CATEGORY) AS CATEGORY_ID,
    SUM(CASE WHEN EVENT_TYPE IN ('product_view', 'category_browse', 'search') THEN 1 ELSE 0 END) AS VIEWS,
    SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN 1 ELSE 0 END) AS PURCHASES
  FROM {{ events }}
  WHERE EVENT_TIMESTAMP >= CAST(%s AS TIMESTAMP) AND EVENT_TIMESTAMP < CAST(%s AS TIMESTAMP)
    AND PRODUCT_ID IS NOT NULL
  GROUP BY CUSTOMER_ID, PRODUCT_ID
),
repeat_rate AS (
  SELECT CATEGORY_ID, SUM(PURCHASES - 1) * 1.0 / SUM(PURCHASES) AS RATE
  FROM touched WHERE PURCHASES > 0
  GROUP BY CATEGORY_ID
),
views AS (
  SELECT PRODUCT_ID, SUM(VIEWS) AS VIEWS FROM touched GROUP BY PRODUCT_ID
)
SELECT p.PRODUCT_ID, COALESCE(v.VIEWS, 0) AS VIEWS_365D, COALESCE(r.RATE, 0) AS REPEAT_RATE
FROM {{ products }} p
LEFT JOIN views v ON v.PRODUCT_ID = p.PRODUCT_ID
LEFT JOIN repeat_rate r ON r.CATEGORY_ID = p.CATEGORY_ID;
