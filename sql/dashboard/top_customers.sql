-- Customers: the ten customers with the most revenue in the 30 days up to the end of the selected range,
-- with their current name, segment and country.
SELECT f.CUSTOMER_ID, c.FIRST_NAME || ' ' || c.LAST_NAME AS CUSTOMER, c.SEGMENT, c.COUNTRY,
       COUNT(DISTINCT f.ORDER_ID) AS ORDERS, SUM(f.NET_AMOUNT) AS REVENUE
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_CUSTOMER c ON c.CUSTOMER_ID = f.CUSTOMER_ID AND c.IS_CURRENT
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN DATEADD(day, -29, {{ end }}) AND {{ end }}
GROUP BY f.CUSTOMER_ID, c.FIRST_NAME, c.LAST_NAME, c.SEGMENT, c.COUNTRY
ORDER BY REVENUE DESC, f.CUSTOMER_ID
LIMIT 10
