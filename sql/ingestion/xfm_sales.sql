-- Bronze rows (from the stream) to typed, cleaned sales lines.
-- Cleaning: ids must be whole numbers (a sale without SALE_ID or PRODUCT_ID, a quantity that is not a
-- non-zero whole number or a price that is not a non-negative amount with at most two decimals stays
-- in Bronze and is not promoted); a non-numeric CUSTOMER_ID becomes NULL (an anonymous sale); store
-- ids upper case; AMOUNT = QUANTITY x UNIT_PRICE; impossible times to NULL (the CASE guards make
-- the CAST safe). A negative quantity is a return.
-- Dedupe: within one batch the latest version of a SALE_ID wins: by UPDATED_AT, then load order
-- (the local pipe's load sequence, else the file's last-modified time and the load's start), then
-- the row in its file.
WITH typed AS (
  SELECT
    CASE WHEN REGEXP_LIKE(TRIM(SALE_ID), '^[0-9]{1,18}$') THEN CAST(TRIM(SALE_ID) AS NUMBER(38,0)) END AS SALE_ID,
    CASE WHEN REGEXP_LIKE(TRIM(CUSTOMER_ID), '^[0-9]{1,18}$')
         THEN CAST(TRIM(CUSTOMER_ID) AS NUMBER(38,0)) END AS CUSTOMER_ID,
    CASE WHEN REGEXP_LIKE(TRIM(PRODUCT_ID), '^[0-9]{1,18}$')
         THEN CAST(TRIM(PRODUCT_ID) AS NUMBER(38,0)) END AS PRODUCT_ID,
    NULLIF(UPPER(TRIM(STORE_ID)), '') AS STORE_ID,
    CASE WHEN REGEXP_LIKE(TRIM(QUANTITY), '^-?[0-9]{1,9}$') AND TRY_TO_NUMBER(TRIM(QUANTITY)) <> 0
         THEN CAST(TRIM(QUANTITY) AS NUMBER(38,0)) END AS QUANTITY,
    CASE WHEN REGEXP_LIKE(TRIM(UNIT_PRICE), '^[0-9]{1,10}([.][0-9]{1,2})?$')
         THEN CAST(TRIM(UNIT_PRICE) AS NUMBER(12,2)) END AS UNIT_PRICE,
    CASE WHEN REGEXP_LIKE(TRIM(SOLD_AT),
                          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$')
              AND TRY_TO_DATE(LEFT(TRIM(SOLD_AT), 10)) IS NOT NULL
         THEN CAST(REPLACE(TRIM(SOLD_AT), 'T', ' ') AS TIMESTAMP_NTZ) END AS SOLD_AT,
    CASE WHEN REGEXP_LIKE(TRIM(UPDATED_AT),
                          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$')
              AND TRY_TO_DATE(LEFT(TRIM(UPDATED_AT), 10)) IS NOT NULL
         THEN CAST(REPLACE(TRIM(UPDATED_AT), 'T', ' ') AS TIMESTAMP_NTZ) END AS UPDATED_AT,
    _FILE_NAME AS SOURCE_FILE,
    _FILE_ROW_NUMBER AS SOURCE_ROW,
    _LOAD_SEQ AS LOAD_SEQ,
    _FILE_LAST_MODIFIED AS FILE_LAST_MODIFIED,
    _LOADED_AT AS LOADED_AT
  FROM {{ source }}
)
SELECT SALE_ID, CUSTOMER_ID, PRODUCT_ID, STORE_ID, QUANTITY, UNIT_PRICE,
       CAST(QUANTITY * UNIT_PRICE AS NUMBER(14,2)) AS AMOUNT, SOLD_AT, UPDATED_AT, SOURCE_FILE, SOURCE_ROW
FROM typed
WHERE SALE_ID IS NOT NULL AND PRODUCT_ID IS NOT NULL AND QUANTITY IS NOT NULL AND UNIT_PRICE IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY SALE_ID
  ORDER BY UPDATED_AT DESC NULLS LAST, LOAD_SEQ DESC NULLS LAST, FILE_LAST_MODIFIED DESC NULLS LAST,
           LOADED_AT DESC NULLS LAST, SOURCE_FILE DESC, SOURCE_ROW DESC
) = 1
