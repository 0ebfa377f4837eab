-- Geography: orders and revenue per shipping country in the selected range, cancelled orders left out.
SELECT SHIPPING_COUNTRY AS COUNTRY, COUNT(*) AS ORDERS, SUM(TOTAL_AMOUNT) AS REVENUE
FROM {{ db }}.SILVER.ENRICHED_ORDERS
WHERE NOT IS_CANCELLED AND ORDER_DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY SHIPPING_COUNTRY
ORDER BY REVENUE DESC
