-- What the ranking model knows about products and about a customer's own history, as of
-- {{ feature_end }}: CURRENT_TIMESTAMP() in the FEATURE_STORE views the serving sync reads, a past
-- cut-off when the `train` step builds training and evaluation rows. services/features/pair.py turns
-- these rows into the model's features, the same way for training and for the API.

-- name: product_popularity
-- Per product, from the 365 days before the cut-off: purchases over the last 30, 90 and 365 days; views
-- by everyone (the browse events Customer 360 counts; views follow a product's appeal and are not moved
-- by its price, stock or the season); and its category's repeat rate, the share of the category's
-- purchases that repeat a product the buyer had bought in the window. 0 for what nobody touched.
WITH recent AS (
  SELECT CUSTOMER_ID, PRODUCT_ID, EVENT_TYPE IN ('order_complete', 'pos_purchase') AS IS_PURCHASE,
    EVENT_TYPE IN ('product_view', 'category_browse', 'search') AS IS_VIEW, EVENT_TIMESTAMP
  FROM {{ events }}
  WHERE EVENT_TIMESTAMP < {{ feature_end }}
    AND EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '365 days'
    AND PRODUCT_ID IS NOT NULL
    AND EVENT_TYPE IN ('order_complete', 'pos_purchase', 'product_view', 'category_browse', 'search')
),
per_product AS (
  SELECT
    PRODUCT_ID,
    COUNT(CASE WHEN IS_PURCHASE AND EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '30 days' THEN 1 END) AS P30,
    COUNT(CASE WHEN IS_PURCHASE AND EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '90 days' THEN 1 END) AS P90,
    COUNT(CASE WHEN IS_PURCHASE THEN 1 END) AS P365,
    COUNT(CASE WHEN IS_VIEW THEN 1 END) AS VIEWS
  FROM recent
  GROUP BY PRODUCT_ID
),
bought AS (
  SELECT CUSTOMER_ID, PRODUCT_ID, COUNT(*) AS PURCHASES FROM recent WHERE IS_PURCHASE GROUP BY CUSTOMER_ID, PRODUCT_ID
),
repeat_rate AS (
  SELECT p.CATEGORY_ID, SUM(b.PURCHASES - 1) * 1.0 / SUM(b.PURCHASES) AS RATE
  FROM bought b JOIN {{ products }} p ON p.PRODUCT_ID = b.PRODUCT_ID
  GROUP BY p.CATEGORY_ID
)
SELECT
  p.PRODUCT_ID,
  COALESCE(pp.P30, 0) AS PURCHASES_30D,
  COALESCE(pp.P90, 0) AS PURCHASES_90D,
  COALESCE(pp.P365, 0) AS PURCHASES_365D,
  COALESCE(pp.VIEWS, 0) AS VIEWS_365D,
  COALESCE(r.RATE, 0) AS REPEAT_RATE
FROM {{ products }} p
LEFT JOIN per_product pp ON pp.PRODUCT_ID = p.PRODUCT_ID
LEFT JOIN repeat_rate r ON r.CATEGORY_ID = p.CATEGORY_ID;

-- name: customer_product_interactions
-- Per (customer, product) the customer touched: views (the browse events Customer 360 counts), cart
-- and checkout events, purchases, and the days since the last purchase (NULL if never bought).
SELECT
  CUSTOMER_ID,
  PRODUCT_ID,
  SUM(CASE WHEN EVENT_TYPE IN ('product_view', 'category_browse', 'search') THEN 1 ELSE 0 END) AS VIEWS,
  SUM(CASE WHEN EVENT_TYPE IN ('add_to_cart', 'remove_from_cart', 'cart_view', 'abandoned_cart', 'checkout_start',
    'payment') THEN 1 ELSE 0 END) AS CARTS,
  SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN 1 ELSE 0 END) AS PURCHASES,
  DATEDIFF('day', MAX(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN EVENT_TIMESTAMP END),
    {{ feature_end }}) AS DAYS_SINCE_PURCHASE
FROM {{ events }}
WHERE EVENT_TIMESTAMP < {{ feature_end }}
  AND PRODUCT_ID IS NOT NULL
  AND EVENT_TYPE IN ('product_view', 'category_browse', 'search', 'add_to_cart', 'remove_from_cart', 'cart_view',
    'abandoned_cart', 'checkout_start', 'payment', 'order_complete', 'pos_purchase')
GROUP BY CUSTOMER_ID, PRODUCT_ID;
