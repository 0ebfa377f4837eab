-- The days the dashboard can show: the first and last day with sales in DAILY_SALES_SUMMARY (NULLs
-- while the analytics pipeline has not run yet, which the app reports as "no data yet").
SELECT MIN(SALES_DATE) AS FIRST_DAY, MAX(SALES_DATE) AS LAST_DAY, COUNT(*) AS DAYS
FROM {{ db }}.GOLD.DAILY_SALES_SUMMARY
