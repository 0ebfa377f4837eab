-- Products: per product in the selected range, units, revenue, profit and margin (profit / revenue),
-- with the product's latest name, category and list price (its last version, so a product deleted
-- at the source keeps its sales). Cancelled orders left out.
SELECT f.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.UNIT_PRICE, SUM(f.QUANTITY) AS UNITS,
       SUM(f.NET_AMOUNT) AS REVENUE, SUM(f.PROFIT) AS PROFIT,
       IFF(SUM(f.NET_AMOUNT) = 0, NULL, ROUND(SUM(f.PROFIT) / SUM(f.NET_AMOUNT), 6)) AS MARGIN
FROM {{ db }}.GOLD.FACT_SALES f
LEFT JOIN (
  SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY, UNIT_PRICE
  FROM {{ db }}.GOLD.DIM_PRODUCT
  QUALIFY ROW_NUMBER() OVER (PARTITION BY PRODUCT_ID ORDER BY VALID_FROM DESC) = 1
) p ON p.PRODUCT_ID = f.PRODUCT_ID
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY f.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.UNIT_PRICE
ORDER BY PROFIT DESC, f.PRODUCT_ID
