-- The monitor's reads of the dynamic tables (python -m scripts.monitor).

-- name: stack_dynamic_tables
-- Per dynamic table of the database: its last refresh, and its lag (now minus the data timestamp of its
-- last successful refresh; NULL if it never succeeded).
SELECT NAME, STATE, STATE_MESSAGE, REFRESH_END_TIME,
       DATEDIFF('second', LAST_GOOD, CURRENT_TIMESTAMP()) AS LAG_SECONDS
FROM (
    SELECT NAME, STATE, STATE_MESSAGE, REFRESH_END_TIME, REFRESH_START_TIME, SCHEMA_NAME,
           MAX(IFF(STATE = 'SUCCEEDED', DATA_TIMESTAMP, NULL)) OVER (PARTITION BY SCHEMA_NAME, NAME) AS LAST_GOOD
    FROM TABLE({{ db }}.INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY(RESULT_LIMIT => 10000))
    WHERE STATE IN ('SUCCEEDED', 'FAILED', 'UPSTREAM_FAILED', 'CANCELLED')
)
QUALIFY ROW_NUMBER() OVER (PARTITION BY SCHEMA_NAME, NAME ORDER BY REFRESH_START_TIME DESC) = 1
ORDER BY NAME;

-- name: local_dynamic_tables
-- On the stand-in: how far each CDC table is behind the change log, as CDC_MONITORING computes it, and
-- the local refresh's last run.
SELECT
    (SELECT MAX(ORDERS_CURRENT_LAG_SECONDS) FROM {{ monitoring }}) AS ORDERS_CURRENT_LAG_SECONDS,
    (SELECT MAX(ORDERS_DERIVED_LAG_SECONDS) FROM {{ monitoring }}) AS ORDERS_DERIVED_LAG_SECONDS,
    (SELECT MAX(ORDERS_AGGREGATED_LAG_SECONDS) FROM {{ monitoring }}) AS ORDERS_AGGREGATED_LAG_SECONDS,
    (SELECT MAX(REFRESHED_AT) FROM {{ refreshes }}) AS REFRESHED_AT;
