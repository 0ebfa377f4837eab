-- Bronze rows (from the stream) to typed, cleaned stock counts.
-- Cleaning: a count without a whole-number PRODUCT_ID, a STORE_ID or a whole, non-negative
-- QUANTITY_ON_HAND stays in Bronze and is not promoted; store ids upper case; a reorder level that is
-- not a whole, non-negative number becomes NULL; an impossible LAST_UPDATED becomes NULL.
-- Dedupe: within one batch the latest count of a (PRODUCT_ID, STORE_ID) wins: by LAST_UPDATED, then
-- load order (the local pipe's load sequence, else the file's last-modified time and the load's
-- start), then the row in its file.
WITH typed AS (
  SELECT
    CASE WHEN REGEXP_LIKE(TRIM(PRODUCT_ID), '^[0-9]{1,18}$')
         THEN CAST(TRIM(PRODUCT_ID) AS NUMBER(38,0)) END AS PRODUCT_ID,
    NULLIF(UPPER(TRIM(STORE_ID)), '') AS STORE_ID,
    CASE WHEN REGEXP_LIKE(TRIM(QUANTITY_ON_HAND), '^[0-9]{1,12}$')
         THEN CAST(TRIM(QUANTITY_ON_HAND) AS NUMBER(38,0)) END AS QUANTITY_ON_HAND,
    CASE WHEN REGEXP_LIKE(TRIM(REORDER_LEVEL), '^[0-9]{1,12}$')
         THEN CAST(TRIM(REORDER_LEVEL) AS NUMBER(38,0)) END AS REORDER_LEVEL,
    CASE WHEN REGEXP_LIKE(TRIM(LAST_UPDATED),
                          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$')
              AND TRY_TO_DATE(LEFT(TRIM(LAST_UPDATED), 10)) IS NOT NULL
         THEN CAST(REPLACE(TRIM(LAST_UPDATED), 'T', ' ') AS TIMESTAMP_NTZ) END AS LAST_UPDATED,
    _FILE_NAME AS SOURCE_FILE,
    _FILE_ROW_NUMBER AS SOURCE_ROW,
    _LOAD_SEQ AS LOAD_SEQ,
    _FILE_LAST_MODIFIED AS FILE_LAST_MODIFIED,
    _LOADED_AT AS LOADED_AT
  FROM {{ source }}
)
SELECT PRODUCT_ID, STORE_ID, QUANTITY_ON_HAND, REORDER_LEVEL, LAST_UPDATED, SOURCE_FILE, SOURCE_ROW
FROM typed
WHERE PRODUCT_ID IS NOT NULL AND STORE_ID IS NOT NULL AND QUANTITY_ON_HAND IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY PRODUCT_ID, STORE_ID
  ORDER BY LAST_UPDATED DESC NULLS LAST, LOAD_SEQ DESC NULLS LAST, FILE_LAST_MODIFIED DESC NULLS LAST,
           LOADED_AT DESC NULLS LAST, SOURCE_FILE DESC, SOURCE_ROW DESC
) = 1
