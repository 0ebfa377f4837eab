-- ORDERS_DERIVED: the current orders with the columns reports group and filter by, and data-quality
-- flags, with the order-value category (over 100: High Value) and completion status the business reports
-- use. No CURRENT_DATE() here: Snowflake allows it in an incremental dynamic table only in a filter, and a
-- stored age would go stale on every order that does not change. DAYS_SINCE_ORDER is computed where it
-- is read: the view SILVER.ORDERS_WITH_AGE (sql/cdc/orders_with_age.sql).
SELECT
    ORDER_ID,
    CUSTOMER_ID,
    PRODUCT_ID,
    ORDER_DATE,
    STATUS,
    AMOUNT,
    QUANTITY,
    YEAR(ORDER_DATE) AS ORDER_YEAR,
    MONTH(ORDER_DATE) AS ORDER_MONTH,
    {{ value_segment }} AS VALUE_SEGMENT,
    IFF(STATUS IN ('DELIVERED', 'CANCELLED'), 'CLOSED', 'OPEN') AS ORDER_STATE,
    {{ value_category }} AS ORDER_VALUE_CATEGORY,
    IFF(STATUS = 'DELIVERED', 'Completed', 'Pending') AS ORDER_COMPLETION_STATUS,
    IFF(ORDER_ID IS NOT NULL, 'PASSED', 'FAILED') AS DQ_ORDER_ID,
    IFF(CUSTOMER_ID IS NOT NULL, 'PASSED', 'FAILED') AS DQ_CUSTOMER_ID,
    IFF(AMOUNT IS NOT NULL AND AMOUNT >= 0, 'PASSED', 'FAILED') AS DQ_AMOUNT,
    IFF(QUANTITY IS NOT NULL AND QUANTITY >= 1, 'PASSED', 'FAILED') AS DQ_QUANTITY,
    IFF(STATUS IN ('PENDING', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED'), 'PASSED', 'FAILED') AS DQ_STATUS,
    LAST_CHANGE_TYPE,
    LAST_CHANGE_SEQ,
    LAST_CHANGED_AT,
    RECORD_SOURCE
FROM {{ orders_current }}
