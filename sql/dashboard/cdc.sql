-- CDC: the change log's last 48 hours per hour and change type from CDC_MONITORING, with each dynamic
-- table's lag behind the log (the same on every row). Operational, so not filtered by the date range.
SELECT CHANGE_HOUR, CHANGE_TYPE, CHANGES, ORDERS_CURRENT_LAG_SECONDS, ORDERS_DERIVED_LAG_SECONDS,
       ORDERS_AGGREGATED_LAG_SECONDS
FROM {{ db }}.GOLD.CDC_MONITORING
WHERE CHANGE_HOUR > DATEADD(hour, -48, (SELECT MAX(CHANGE_HOUR) FROM {{ db }}.GOLD.CDC_MONITORING))
ORDER BY CHANGE_HOUR, CHANGE_TYPE
