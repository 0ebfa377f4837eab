-- USER_PRODUCT_RECOMMENDATIONS (seed 000): the {{ top_n }} most purchased products of each user's
-- favourite category among the products in stock in the user's home region, one row per (user, rank).
-- Favourite = the most purchased category; a user with no purchases falls back to the most browsed
-- category; a user with neither (or whose category has nothing purchased and in stock) gets the
-- overall best sellers in stock. SOURCE says which. Ties on purchase count break on the lower
-- PRODUCT_ID, so the ranking is deterministic (the seed's ROW_NUMBER had no tie-breaker).
-- Home region = the fulfilment region of the first digit of the user's ZIP code (the mapping the API
-- applies to a request's ZIP code); a user without a usable ZIP code gets products in stock in at
-- least one region. The seed listed products out of stock too, and the website shows this list as is.
WITH purchases AS (
  SELECT PRODUCT_CATEGORY AS CATEGORY_ID, PRODUCT_ID, COUNT(*) AS PURCHASE_COUNT
  FROM {{ events }}
  WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase')
    AND PRODUCT_ID IS NOT NULL AND PRODUCT_CATEGORY IS NOT NULL
  GROUP BY PRODUCT_CATEGORY, PRODUCT_ID
),
in_stock AS (
  SELECT REGION, PRODUCT_ID FROM {{ inventory }} WHERE QTY_ON_HAND > 0
  UNION ALL
  SELECT DISTINCT '*' AS REGION, PRODUCT_ID FROM {{ inventory }} WHERE QTY_ON_HAND > 0
),
stocked AS (
  SELECT s.REGION, p.CATEGORY_ID, p.PRODUCT_ID, p.PURCHASE_COUNT
  FROM purchases p
  JOIN in_stock s ON s.PRODUCT_ID = p.PRODUCT_ID
),
top_per_category AS (
  SELECT REGION, CATEGORY_ID, PRODUCT_ID, PURCHASE_COUNT,
    ROW_NUMBER() OVER (PARTITION BY REGION, CATEGORY_ID ORDER BY PURCHASE_COUNT DESC, PRODUCT_ID) AS RNK
  FROM stocked
  QUALIFY RNK <= {{ top_n }}
),
top_overall AS (
  SELECT REGION, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT,
    ROW_NUMBER() OVER (PARTITION BY REGION ORDER BY PURCHASE_COUNT DESC, PRODUCT_ID) AS RNK
  FROM (
    SELECT REGION, PRODUCT_ID, MIN(CATEGORY_ID) AS CATEGORY_ID, SUM(PURCHASE_COUNT) AS PURCHASE_COUNT
    FROM stocked GROUP BY REGION, PRODUCT_ID
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
    END AS SOURCE,
    CASE SUBSTR(c.ZIP_CODE, 1, 1)
      WHEN '0' THEN 'Northeast' WHEN '1' THEN 'Northeast'
      WHEN '2' THEN 'Southeast' WHEN '3' THEN 'Southeast'
      WHEN '4' THEN 'Midwest' WHEN '5' THEN 'Midwest' WHEN '6' THEN 'Midwest'
      WHEN '7' THEN 'South'
      WHEN '8' THEN 'West' WHEN '9' THEN 'West'
      ELSE '*'
    END AS REGION
  FROM {{ customer_360 }} c
),
by_category AS (
  SELECT f.USER_ID, t.RNK AS RANK, t.PRODUCT_ID, t.CATEGORY_ID, t.PURCHASE_COUNT, f.SOURCE
  FROM favourites f
  JOIN top_per_category t ON t.CATEGORY_ID = f.CATEGORY_ID AND t.REGION = f.REGION
)
SELECT USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT, SOURCE FROM by_category
UNION ALL
SELECT f.USER_ID, o.RNK AS RANK, o.PRODUCT_ID, o.CATEGORY_ID, o.PURCHASE_COUNT, 'GLOBAL_TOP' AS SOURCE
FROM favourites f
JOIN top_overall o ON o.REGION = f.REGION
WHERE NOT EXISTS (SELECT 1 FROM by_category b WHERE b.USER_ID = f.USER_ID)
