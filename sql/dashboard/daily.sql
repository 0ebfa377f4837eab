-- Overview: the 30 days up to the end of the selected range, one row per day with sales. Revenue is
-- net of discounts without cancelled orders; the app takes "today" as the range's last day and
-- computes AOV (revenue per order) and margin (profit / revenue) from these sums.
SELECT SALES_DATE, ORDERS, REVENUE, COST, PROFIT, CANCELLED_ORDERS, CUSTOMERS
FROM {{ db }}.GOLD.DAILY_SALES_SUMMARY
WHERE SALES_DATE BETWEEN DATEADD(day, -29, {{ end }}) AND {{ end }}
ORDER BY SALES_DATE
