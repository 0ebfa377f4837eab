-- Sales Trends: revenue per category and month in the selected range, cancelled orders left out.
SELECT p.CATEGORY, DATE_TRUNC('MONTH', f.ORDER_TS)::DATE AS MONTH, SUM(f.NET_AMOUNT) AS REVENUE
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_PRODUCT p ON p.PRODUCT_SK = f.PRODUCT_SK
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY p.CATEGORY, DATE_TRUNC('MONTH', f.ORDER_TS)::DATE
ORDER BY MONTH, p.CATEGORY
