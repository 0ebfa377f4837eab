-- Customers: the ten customers with the most revenue in the 30 days up to the end of the selected range,
-- with their latest name, segment and country (their last version, so a deleted customer still counts).
SELECT f.CUSTOMER_ID, c.FIRST_NAME || ' ' || c.LAST_NAME || ' #' || f.CUSTOMER_ID AS CUSTOMER, c.SEGMENT,
       c.COUNTRY, COUNT(DISTINCT f.ORDER_ID) AS ORDERS, SUM(f.NET_AMOUNT) AS REVENUE
FROM {{ db }}.GOLD.FACT_SALES f
LEFT JOIN (
  SELECT CUSTOMER_ID, FIRST_NAME, LAST_NAME, SEGMENT, COUNTRY
  FROM {{ db }}.GOLD.DIM_CUSTOMER
  QUALIFY ROW_NUMBER() OVER (PARTITION BY CUSTOMER_ID ORDER BY VALID_FROM DESC) = 1
) c ON c.CUSTOMER_ID = f.CUSTOMER_ID
WHERE NOT f.IS_CANCELLED AND f.ORDER_TS::DATE BETWEEN DATEADD(day, -29, {{ end }}) AND {{ end }}
GROUP BY f.CUSTOMER_ID, c.FIRST_NAME, c.LAST_NAME, c.SEGMENT, c.COUNTRY
ORDER BY REVENUE DESC, f.CUSTOMER_ID
LIMIT 10
