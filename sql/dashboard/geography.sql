-- Geography: orders and revenue per shipping country in the selected range, from the facts (so the
-- totals are the other tabs' totals; the shipping country comes from the order), cancelled orders left out.
SELECT COALESCE(e.SHIPPING_COUNTRY, 'unknown') AS COUNTRY, COUNT(DISTINCT f.ORDER_ID) AS ORDERS,
       SUM(f.NET_AMOUNT) AS REVENUE
FROM {{ db }}.GOLD.FACT_SALES f
LEFT JOIN {{ db }}.SILVER.ENRICHED_ORDERS e ON e.ORDER_ID = f.ORDER_ID
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY COALESCE(e.SHIPPING_COUNTRY, 'unknown')
ORDER BY REVENUE DESC
