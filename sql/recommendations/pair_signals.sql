-- What the ranking model knows about products and about a customer's own history, as of
-- {{ feature_end }}: CURRENT_TIMESTAMP() in the FEATURE_STORE views the serving sync reads, a past
-- cut-off when the `train` step builds training and evaluation rows. services/features/pair.py turns
-- these rows into the model's features, the same way for training and for the API.

-- name: product_popularity
-- Purchases of each product over the last 30, 90 and 365 days (0 for a product nobody bought).
SELECT
  p.PRODUCT_ID,
  COUNT(CASE WHEN e.EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '30 days' THEN 1 END) AS PURCHASES_30D,
  COUNT(CASE WHEN e.EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '90 days' THEN 1 END) AS PURCHASES_90D,
  COUNT(e.PRODUCT_ID) AS PURCHASES_365D
FROM {{ products }} p
LEFT JOIN {{ events }} e
  ON e.PRODUCT_ID = p.PRODUCT_ID
  AND e.EVENT_TYPE IN ('order_complete', 'pos_purchase')
  AND e.EVENT_TIMESTAMP < {{ feature_end }}
  AND e.EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '365 days'
GROUP BY p.PRODUCT_ID;

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
