-- ORDERS_DERIVED: the current orders with the columns reports group and filter by, and data-quality
-- flags. No CURRENT_DATE() here (a non-deterministic function forces full refreshes): the age of an
-- order is computed where it is read.
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
