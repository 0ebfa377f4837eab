-- CURRENT_INVENTORY (dynamic table): stock on hand per product from the movements, the average daily
-- sales over the 30 days before the latest movement, days of cover and a LOW / MEDIUM / HEALTHY status
-- against the product's reorder level.
SELECT p.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.REORDER_LEVEL,
       COALESCE(m.STOCK_ON_HAND, 0) AS STOCK_ON_HAND,
       ROUND(COALESCE(m.SOLD_30D, 0) / 30, 2) AS AVG_DAILY_SALES,
       IFF(COALESCE(m.SOLD_30D, 0) = 0, NULL, ROUND(COALESCE(m.STOCK_ON_HAND, 0) / (m.SOLD_30D / 30), 1)) AS DAYS_OF_COVER,
       CASE
         WHEN COALESCE(m.STOCK_ON_HAND, 0) <= p.REORDER_LEVEL THEN 'LOW'
         WHEN COALESCE(m.STOCK_ON_HAND, 0) <= 2 * p.REORDER_LEVEL THEN 'MEDIUM'
         ELSE 'HEALTHY'
       END AS STOCK_STATUS,
       m.LAST_MOVEMENT_AT
FROM {{ products }} p
LEFT JOIN (
  SELECT v.PRODUCT_ID, SUM(v.QUANTITY) AS STOCK_ON_HAND, MAX(v.MOVED_AT) AS LAST_MOVEMENT_AT,
         SUM(IFF(v.MOVEMENT_TYPE = 'SALE' AND v.MOVED_AT > DATEADD(day, -30, t.LATEST), -v.QUANTITY, 0)) AS SOLD_30D
  FROM {{ movements }} v
  CROSS JOIN (SELECT MAX(MOVED_AT) AS LATEST FROM {{ movements }}) t
  GROUP BY v.PRODUCT_ID
) m ON m.PRODUCT_ID = p.PRODUCT_ID
