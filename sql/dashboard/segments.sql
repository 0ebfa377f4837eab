-- Overview and Customers: per customer segment in the selected range (the segment the customer had when
-- ordering): customers, orders, revenue, revenue per order and per customer. Cancelled orders left out.
SELECT c.SEGMENT, COUNT(DISTINCT f.CUSTOMER_ID) AS CUSTOMERS, COUNT(DISTINCT f.ORDER_ID) AS ORDERS,
       SUM(f.NET_AMOUNT) AS REVENUE, ROUND(SUM(f.NET_AMOUNT) / COUNT(DISTINCT f.ORDER_ID), 2) AS AVG_ORDER_VALUE,
       ROUND(SUM(f.NET_AMOUNT) / COUNT(DISTINCT f.CUSTOMER_ID), 2) AS REVENUE_PER_CUSTOMER
FROM {{ db }}.GOLD.FACT_SALES f
JOIN {{ db }}.GOLD.DIM_CUSTOMER c ON c.CUSTOMER_SK = f.CUSTOMER_SK
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY c.SEGMENT
ORDER BY REVENUE DESC
