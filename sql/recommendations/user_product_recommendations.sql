-- USER_PRODUCT_RECOMMENDATIONS (seed 000): the {{ top_n }} most purchased products of each user's
-- favourite category, one row per (user, rank).
-- Favourite = the most purchased category; a user with no purchases falls back to the most browsed
-- category; a user with neither (or whose category has no purchases at all) gets the overall best
-- sellers. SOURCE says which. Ties on purchase count break on the lower PRODUCT_ID, so the ranking
-- is deterministic (the seed's ROW_NUMBER had no tie-breaker).
WITH purchases AS (
  SELECT PRODUCT_CATEGORY AS CATEGORY_ID, PRODUCT_ID, COUNT(*) AS PURCHASE_COUNT
  FROM {{ events }}
  WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase')
    AND PRODUCT_ID IS NOT NULL AND PRODUCT_CATEGORY IS NOT NULL
  GROUP BY PRODUCT_CATEGORY, PRODUCT_ID
),
top_per_category AS (
  SELECT CATEGORY_ID, PRODUCT_ID, PURCHASE_COUNT,
    ROW_NUMBER() OVER (PARTITION BY CATEGORY_ID ORDER BY PURCHASE_COUNT DESC, PRODUCT_ID) AS RNK
  FROM purchases
  QUALIFY RNK <= {{ top_n }}
),
top_overall AS (
  SELECT PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT,
    ROW_NUMBER() OVER (ORDER BY PURCHASE_COUNT DESC, PRODUCT_ID) AS RNK
  FROM (
    SELECT PRODUCT_ID, MIN(CATEGORY_ID) AS CATEGORY_ID, SUM(PURCHASE_COUNT) AS PURCHASE_COUNT
    FROM purchases GROUP BY PRODUCT_ID
  )
  QUALIFY RNK <= {{ top_n }}
),
favourites AS (
  SELECT
    c.CUSTOMER_ID AS USER_ID,
    COALESCE(c.FAVORITE_PURCHASE_CATEGORY, c.FAVORITE_BROWSE_CATEGORY) AS CATEGORY_ID,
    CASE
      WHEN c.FAVORITE_PURCHASE_CATEGORY IS NOT NULL THEN 'PURCHASE_CATEGORY'
      WHEN c.FAVORITE_BROWSE_CATEGORY IS NOT NULL THEN 'BROWSE_CATEGORY'
    END AS SOURCE
  FROM {{ customer_360 }} c
),
by_category AS (
  SELECT f.USER_ID, t.RNK AS RANK, t.PRODUCT_ID, t.CATEGORY_ID, t.PURCHASE_COUNT, f.SOURCE
  FROM favourites f
  JOIN top_per_category t ON t.CATEGORY_ID = f.CATEGORY_ID
)
SELECT USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT, SOURCE FROM by_category
UNION ALL
SELECT f.USER_ID, o.RNK AS RANK, o.PRODUCT_ID, o.CATEGORY_ID, o.PURCHASE_COUNT, 'GLOBAL_TOP' AS SOURCE
FROM favourites f
JOIN top_overall o ON TRUE
WHERE NOT EXISTS (SELECT 1 FROM by_category b WHERE b.USER_ID = f.USER_ID)
