-- Overview: orders per current status in the selected range, cancelled ones included.
SELECT ORDER_STATUS, COUNT(DISTINCT ORDER_ID) AS ORDERS
FROM {{ db }}.GOLD.FACT_SALES
WHERE ORDER_TS::DATE BETWEEN {{ start }} AND {{ end }}
GROUP BY ORDER_STATUS
ORDER BY ORDERS DESC
