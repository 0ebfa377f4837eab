-- Retrieval before ranking: each customer's candidate products as of {{ feature_end }}, one row per
-- (customer, product, source) with the source's score, in stock in the customer's home region (the
-- API's ZIP mapping). The ranker scores only these, plus the propensity and taste sources, which the
-- API takes from its in-memory shelf (services/features/candidates.py). Sources, each bounded:
--   history      products the customer bought or carted; a purchase counts by its category's repeat
--                rate (share of the category's purchases that repeat a product the buyer had bought)
--   cooccurrence products bought or carted by the same customers as the customer's own (cosine over
--                customers, the {{ neighbours }} nearest of each product, the best {{ per_source }} summed)
--   category     the {{ per_category }} best sellers (90 days) of each of the customer's
--                {{ categories }} most active categories (every event names a category)
--   brand        the {{ per_brand }} best sellers of each of the customer's {{ brands }} favourite brands
-- FEATURE_STORE.CUSTOMER_CANDIDATES is this query as of now; training and evaluation run it at past
-- cut-offs.

-- name: customer_candidates
WITH hist AS (
  SELECT CUSTOMER_ID, PRODUCT_ID, PRODUCT_CATEGORY AS CATEGORY_ID, EVENT_TYPE
  FROM {{ events }}
  WHERE EVENT_TIMESTAMP < {{ feature_end }}
    AND EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '365 days'
    AND PRODUCT_ID IS NOT NULL
),
touched AS (
  SELECT CUSTOMER_ID, PRODUCT_ID, MAX(CATEGORY_ID) AS CATEGORY_ID, COUNT(*) AS EVENTS,
    SUM(CASE WHEN EVENT_TYPE IN ('order_complete', 'pos_purchase') THEN 1 ELSE 0 END) AS PURCHASES,
    SUM(CASE WHEN EVENT_TYPE IN ('add_to_cart', 'remove_from_cart', 'cart_view', 'abandoned_cart',
      'checkout_start', 'payment') THEN 1 ELSE 0 END) AS CARTS
  FROM hist
  GROUP BY CUSTOMER_ID, PRODUCT_ID
),
repeat_rate AS (
  SELECT CATEGORY_ID, SUM(PURCHASES - 1) * 1.0 / SUM(PURCHASES) AS RATE
  FROM touched WHERE PURCHASES > 0
  GROUP BY CATEGORY_ID
),
home AS (
  SELECT CUSTOMER_ID, {{ home_region }} AS REGION FROM {{ customers }}
),
popular AS (
  SELECT PRODUCT_ID, COUNT(*) AS N
  FROM {{ events }}
  WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase')
    AND EVENT_TIMESTAMP < {{ feature_end }} AND EVENT_TIMESTAMP >= {{ feature_end }} - INTERVAL '90 days'
  GROUP BY PRODUCT_ID
),
shelf AS (
  SELECT i.REGION, p.PRODUCT_ID, p.CATEGORY_ID, p.BRAND, COALESCE(n.N, 0) AS N,
    ROW_NUMBER() OVER (PARTITION BY i.REGION, p.CATEGORY_ID ORDER BY COALESCE(n.N, 0) DESC, p.PRODUCT_ID) AS CAT_RANK,
    ROW_NUMBER() OVER (PARTITION BY i.REGION, p.BRAND ORDER BY COALESCE(n.N, 0) DESC, p.PRODUCT_ID) AS BRAND_RANK
  FROM {{ inventory }} i
  JOIN {{ products }} p ON p.PRODUCT_ID = i.PRODUCT_ID
  LEFT JOIN popular n ON n.PRODUCT_ID = i.PRODUCT_ID
  WHERE i.QTY_ON_HAND > 0
),
history AS (
  SELECT t.CUSTOMER_ID, t.PRODUCT_ID, 'history' AS SOURCE,
    t.PURCHASES * COALESCE(r.RATE, 0) + 0.1 * t.CARTS AS SCORE
  FROM touched t LEFT JOIN repeat_rate r ON r.CATEGORY_ID = t.CATEGORY_ID
  WHERE t.PURCHASES + t.CARTS > 0
),
basket AS (
  SELECT CUSTOMER_ID, PRODUCT_ID FROM touched WHERE PURCHASES + CARTS > 0
),
item_count AS (
  SELECT PRODUCT_ID, COUNT(*) AS N FROM basket GROUP BY PRODUCT_ID
),
neighbours AS (
  SELECT a.PRODUCT_ID AS A, b.PRODUCT_ID AS B, COUNT(*) / SQRT(MAX(ia.N) * MAX(ib.N)) AS SIM
  FROM basket a
  JOIN basket b ON b.CUSTOMER_ID = a.CUSTOMER_ID AND b.PRODUCT_ID <> a.PRODUCT_ID
  JOIN item_count ia ON ia.PRODUCT_ID = a.PRODUCT_ID
  JOIN item_count ib ON ib.PRODUCT_ID = b.PRODUCT_ID
  GROUP BY a.PRODUCT_ID, b.PRODUCT_ID
  QUALIFY ROW_NUMBER() OVER (PARTITION BY a.PRODUCT_ID ORDER BY SIM DESC, b.PRODUCT_ID) <= {{ neighbours }}
),
cooccurrence AS (
  SELECT k.CUSTOMER_ID, n.B AS PRODUCT_ID, 'cooccurrence' AS SOURCE, SUM(n.SIM) AS SCORE
  FROM basket k JOIN neighbours n ON n.A = k.PRODUCT_ID
  GROUP BY k.CUSTOMER_ID, n.B
),
category_affinity AS (
  SELECT CUSTOMER_ID, CATEGORY_ID, SUM(EVENTS) AS W,
    ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY SUM(EVENTS) DESC, CATEGORY_ID) AS RNK
  FROM touched
  GROUP BY CUSTOMER_ID, CATEGORY_ID
),
brand_affinity AS (
  SELECT t.CUSTOMER_ID, p.BRAND, SUM(t.EVENTS + 2 * t.CARTS + 3 * t.PURCHASES) AS W,
    ROW_NUMBER() OVER (PARTITION BY t.CUSTOMER_ID ORDER BY SUM(t.EVENTS + 2 * t.CARTS + 3 * t.PURCHASES) DESC,
      p.BRAND) AS RNK
  FROM touched t JOIN {{ products }} p ON p.PRODUCT_ID = t.PRODUCT_ID
  GROUP BY t.CUSTOMER_ID, p.BRAND
),
category AS (
  SELECT a.CUSTOMER_ID, s.PRODUCT_ID, 'category' AS SOURCE, a.W * 1.0 / s.CAT_RANK AS SCORE
  FROM category_affinity a
  JOIN home h ON h.CUSTOMER_ID = a.CUSTOMER_ID
  JOIN shelf s ON s.REGION = h.REGION AND s.CATEGORY_ID = a.CATEGORY_ID AND s.CAT_RANK <= {{ per_category }}
  WHERE a.RNK <= {{ categories }}
),
brand AS (
  SELECT a.CUSTOMER_ID, s.PRODUCT_ID, 'brand' AS SOURCE, a.W * 1.0 / s.BRAND_RANK AS SCORE
  FROM brand_affinity a
  JOIN home h ON h.CUSTOMER_ID = a.CUSTOMER_ID
  JOIN shelf s ON s.REGION = h.REGION AND s.BRAND = a.BRAND AND s.BRAND_RANK <= {{ per_brand }}
  WHERE a.RNK <= {{ brands }}
),
personal AS (
  SELECT * FROM history
  UNION ALL
  SELECT * FROM cooccurrence
),
in_stock_personal AS (
  SELECT x.CUSTOMER_ID, x.PRODUCT_ID, x.SOURCE, x.SCORE,
    ROW_NUMBER() OVER (PARTITION BY x.CUSTOMER_ID, x.SOURCE ORDER BY x.SCORE DESC, x.PRODUCT_ID) AS RNK
  FROM personal x
  JOIN home h ON h.CUSTOMER_ID = x.CUSTOMER_ID
  JOIN {{ inventory }} i ON i.PRODUCT_ID = x.PRODUCT_ID AND i.REGION = h.REGION AND i.QTY_ON_HAND > 0
)
SELECT CUSTOMER_ID, PRODUCT_ID, SOURCE, SCORE FROM in_stock_personal WHERE RNK <= {{ per_source }}
UNION ALL
SELECT CUSTOMER_ID, PRODUCT_ID, SOURCE, SCORE FROM category
UNION ALL
SELECT CUSTOMER_ID, PRODUCT_ID, SOURCE, SCORE FROM brand
