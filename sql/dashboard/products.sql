-- Products: per product in the selected range, units, revenue, profit and margin (profit / revenue),
-- with the product's current list price and category. Cancelled orders left out.
SELECT p.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.UNIT_PRICE, SUM(f.QUANTITY) AS UNITS,
       SUM(f.NET_AMOUNT) AS REVENUE, SUM(f.PROFIT) AS PROFIT,
       IFF(SUM(f.NET_AMOUNT) = 0, NULL, ROUND(SUM(f.PROFIT) / SUM(f.NET_AMOUNT), 6)) AS MARGIN
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_PRODUCT p ON p.PRODUCT_ID = f.PRODUCT_ID AND p.IS_CURRENT
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY p.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, p.UNIT_PRICE
ORDER BY PROFIT DESC, p.PRODUCT_ID
