-- Sales Trends: revenue per category and day in the selected range, cancelled orders left out (each sale
-- under the product version valid when it was ordered, as category_month).
SELECT p.CATEGORY, f.ORDER_TS::DATE AS SALES_DATE, SUM(f.NET_AMOUNT) AS REVENUE
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_PRODUCT p ON p.PRODUCT_SK = f.PRODUCT_SK
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY p.CATEGORY, f.ORDER_TS::DATE
ORDER BY SALES_DATE, p.CATEGORY
