-- ORDERS_CURRENT: every order as of its latest change in the log, by CHANGE_SEQ (the source's commit
-- order, never a timestamp); an order whose latest change is a DELETE is gone, and comes back if it is
-- inserted again. Deterministic and partitioned by ORDER_ID, so Snowflake refreshes it incrementally.
SELECT
    ORDER_ID,
    CUSTOMER_ID,
    PRODUCT_ID,
    ORDER_DATE,
    STATUS,
    AMOUNT,
    QUANTITY,
    CHANGE_TYPE AS LAST_CHANGE_TYPE,
    CHANGE_SEQ AS LAST_CHANGE_SEQ,
    CHANGED_AT AS LAST_CHANGED_AT,
    RECORD_SOURCE
FROM (
    SELECT
        ORDER_ID, CUSTOMER_ID, PRODUCT_ID, ORDER_DATE, STATUS, AMOUNT, QUANTITY,
        CHANGE_TYPE, CHANGE_SEQ, CHANGED_AT, RECORD_SOURCE
    FROM {{ changes }}
    QUALIFY ROW_NUMBER() OVER (PARTITION BY ORDER_ID ORDER BY CHANGE_SEQ DESC) = 1
)
WHERE CHANGE_TYPE <> 'DELETE'
