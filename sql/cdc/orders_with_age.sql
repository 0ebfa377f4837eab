-- ORDERS_WITH_AGE: ORDERS_DERIVED with DAYS_SINCE_ORDER, the whole days from the order date to now,
-- computed when read (a view), so it is never stale and ORDERS_DERIVED stays incremental.
SELECT
    d.*,
    DATEDIFF('day', d.ORDER_DATE, CURRENT_TIMESTAMP()) AS DAYS_SINCE_ORDER
FROM {{ orders_derived }} AS d
