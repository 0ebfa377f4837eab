-- Sales Trends: revenue and orders per day from six days before the selected range to its end (the six
-- let the 7-day average start on the range's first day), one row per day with sales. Revenue is net of
-- discounts without cancelled orders; the app fills days without sales with zeros.
SELECT SALES_DATE, ORDERS, REVENUE
FROM {{ db }}.GOLD.DAILY_SALES_SUMMARY
WHERE SALES_DATE BETWEEN DATEADD(day, -6, {{ start }}) AND {{ end }}
ORDER BY SALES_DATE
