-- One row per (customer, category): features from events strictly before {{ feature_end }}, and
-- LABEL = 1 when the customer purchased in that category within {{ label_days }} days after it.
-- Training uses a past feature_end (so the label is known); scoring uses now (LABEL is then 0).
-- Fix against the seed: the seed's propensity model had only customer-level inputs, so every
-- category scored the same for a customer; the CAT_* columns here differ by category.
WITH hist AS (
  SELECT * FROM {{ events }} WHERE EVENT_TIMESTAMP < {{ feature_end }}
),
cust AS (
  SELECT
    CUSTOMER_ID,
    COUNT(*) AS TOTAL_EVENTS,
    COUNT(DISTINCT CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN ORDER_ID END) AS TOTAL_ORDERS,
    COALESCE(SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN ORDER_TOTAL END), 0) AS LIFETIME_SPEND,
    MAX(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN EVENT_TIMESTAMP END) AS LAST_PURCHASE
  FROM hist
  GROUP BY CUSTOMER_ID
),
cat AS (
  SELECT
    CUSTOMER_ID,
    PRODUCT_CATEGORY AS CATEGORY_ID,
    COUNT(*) AS CAT_EVENTS,
    SUM(CASE WHEN EVENT_TYPE IN ('product_view', 'category_browse', 'search', 'add_to_wishlist') THEN 1 ELSE 0 END) AS CAT_VIEWS,
    SUM(CASE WHEN EVENT_TYPE = 'add_to_cart' THEN 1 ELSE 0 END) AS CAT_CART_ADDS,
    SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN 1 ELSE 0 END) AS CAT_PURCHASES,
    COALESCE(SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN ORDER_TOTAL END), 0) AS CAT_SPEND,
    MAX(EVENT_TIMESTAMP) AS LAST_CAT_EVENT
  FROM hist
  WHERE PRODUCT_CATEGORY IS NOT NULL
  GROUP BY CUSTOMER_ID, PRODUCT_CATEGORY
),
label AS (
  SELECT DISTINCT CUSTOMER_ID, PRODUCT_CATEGORY AS CATEGORY_ID
  FROM {{ events }}
  WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase')
    AND EVENT_TIMESTAMP >= {{ feature_end }}
    AND EVENT_TIMESTAMP < {{ feature_end }} + INTERVAL '{{ label_days }} days'
)
SELECT
  c.CUSTOMER_ID,
  k.CATEGORY_ID,
  CAST(SUBSTR(k.CATEGORY_ID, 5) AS INTEGER) AS CATEGORY_IDX,
  DATEDIFF('year', c.DATE_OF_BIRTH, CAST({{ feature_end }} AS DATE)) AS AGE,
  DATEDIFF('month', c.CUSTOMER_SINCE_DATE, CAST({{ feature_end }} AS DATE)) AS TENURE_MONTHS,
  CASE c.LOYALTY_TIER WHEN 'Bronze' THEN 0 WHEN 'Silver' THEN 1 WHEN 'Gold' THEN 2 WHEN 'Platinum' THEN 3 END
    AS LOYALTY_TIER_NUM,
  CASE WHEN c.HAS_APP THEN 1 ELSE 0 END AS HAS_APP,
  COALESCE(u.TOTAL_EVENTS, 0) AS TOTAL_EVENTS,
  COALESCE(u.TOTAL_ORDERS, 0) AS TOTAL_ORDERS,
  COALESCE(u.LIFETIME_SPEND, 0) AS LIFETIME_SPEND,
  COALESCE(DATEDIFF('day', u.LAST_PURCHASE, {{ feature_end }}), 999) AS DAYS_SINCE_PURCHASE,
  COALESCE(t.CAT_EVENTS, 0) AS CAT_EVENTS,
  COALESCE(t.CAT_VIEWS, 0) AS CAT_VIEWS,
  COALESCE(t.CAT_CART_ADDS, 0) AS CAT_CART_ADDS,
  COALESCE(t.CAT_PURCHASES, 0) AS CAT_PURCHASES,
  COALESCE(t.CAT_SPEND, 0) AS CAT_SPEND,
  CASE WHEN COALESCE(u.TOTAL_EVENTS, 0) > 0 THEN COALESCE(t.CAT_EVENTS, 0) * 1.0 / u.TOTAL_EVENTS ELSE 0 END
    AS CAT_EVENT_SHARE,
  COALESCE(DATEDIFF('day', t.LAST_CAT_EVENT, {{ feature_end }}), 999) AS DAYS_SINCE_CAT_EVENT,
  CASE WHEN l.CUSTOMER_ID IS NULL THEN 0 ELSE 1 END AS LABEL
FROM {{ customers }} c
CROSS JOIN {{ categories }} k
LEFT JOIN cust u ON u.CUSTOMER_ID = c.CUSTOMER_ID
LEFT JOIN cat t ON t.CUSTOMER_ID = c.CUSTOMER_ID AND t.CATEGORY_ID = k.CATEGORY_ID
LEFT JOIN label l ON l.CUSTOMER_ID = c.CUSTOMER_ID AND l.CATEGORY_ID = k.CATEGORY_ID
