-- CDC_MONITORING: changes per hour by type, and how far each dynamic table is behind the log: the
-- seconds between the newest change the table should reflect and the newest it does (0 = caught up,
-- whether or not new changes arrive; NULL = not refreshed yet). A deleted order leaves no row in
-- ORDERS_CURRENT and ORDERS_DERIVED, so what they should reflect is the newest change of an order that
-- is not deleted afterwards; ORDERS_AGGREGATED counts every change, deletes included. Snowflake's own refresh metrics are in
-- INFORMATION_SCHEMA.DYNAMIC_TABLE_REFRESH_HISTORY.
WITH per_hour AS (
    SELECT
        DATE_TRUNC('HOUR', CHANGED_AT) AS CHANGE_HOUR,
        CHANGE_TYPE,
        COUNT(*) AS CHANGES,
        MIN(CHANGED_AT) AS FIRST_CHANGE_AT,
        MAX(CHANGED_AT) AS LAST_CHANGE_AT
    FROM {{ changes }}
    GROUP BY DATE_TRUNC('HOUR', CHANGED_AT), CHANGE_TYPE
),
newest AS (
    SELECT
        (SELECT MAX(CHANGED_AT) FROM {{ changes }}) AS LOGGED,
        (SELECT MAX(c.CHANGED_AT) FROM {{ changes }} AS c
         WHERE c.CHANGE_TYPE <> 'DELETE'
           AND NOT EXISTS (SELECT 1 FROM {{ changes }} AS d
                           WHERE d.ORDER_ID = c.ORDER_ID AND d.CHANGE_TYPE = 'DELETE' AND d.CHANGE_SEQ > c.CHANGE_SEQ))
            AS LOGGED_LIVE,
        (SELECT MAX(LAST_CHANGED_AT) FROM {{ orders_current }}) AS IN_CURRENT,
        (SELECT MAX(LAST_CHANGED_AT) FROM {{ orders_derived }}) AS IN_DERIVED,
        (SELECT MAX(LAST_CHANGED_AT) FROM {{ orders_aggregated }}) AS IN_AGGREGATED
)
SELECT
    h.CHANGE_HOUR,
    h.CHANGE_TYPE,
    h.CHANGES,
    h.FIRST_CHANGE_AT,
    h.LAST_CHANGE_AT,
    DATEDIFF('second', n.IN_CURRENT, n.LOGGED_LIVE) AS ORDERS_CURRENT_LAG_SECONDS,
    DATEDIFF('second', n.IN_DERIVED, n.LOGGED_LIVE) AS ORDERS_DERIVED_LAG_SECONDS,
    DATEDIFF('second', n.IN_AGGREGATED, n.LOGGED) AS ORDERS_AGGREGATED_LAG_SECONDS
FROM per_hour AS h
CROSS JOIN newest AS n
