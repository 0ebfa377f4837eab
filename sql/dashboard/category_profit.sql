-- Overview: revenue and profit per product category in the selected range, cancelled orders left out.
-- Each sale counts under the product version valid when it was ordered.
SELECT p.CATEGORY, SUM(f.NET_AMOUNT) AS REVENUE, SUM(f.PROFIT) AS PROFIT
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_PRODUCT p ON p.PRODUCT_SK = f.PRODUCT_SK
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY p.CATEGORY
ORDER BY REVENUE DESC
