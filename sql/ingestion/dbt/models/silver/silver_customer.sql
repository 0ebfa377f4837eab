{{ config(alias='CUSTOMER') }}
-- DBT_SILVER.CUSTOMER: every customer of the Bronze landing table, typed and cleaned, latest version of a
-- key wins. The same rules as the stored procedure's sql/ingestion/xfm_select.sql (trimmed, names in title
-- case, e-mails lower case and checked, phones digits only, impossible dates and times to NULL, unknown
-- tiers to NULL; by UPDATED_AT, then load order), over all of Bronze instead of one stream batch, so on
-- the same Bronze rows it equals SILVER.CUSTOMER (tests/ingestion/test_dbt.py checks it).
WITH typed AS (
  SELECT
    TRY_TO_NUMBER(TRIM(CUSTOMER_ID)) AS CUSTOMER_ID,
    NULLIF(INITCAP(TRIM(FIRST_NAME)), '') AS FIRST_NAME,
    NULLIF(INITCAP(TRIM(LAST_NAME)), '') AS LAST_NAME,
    CASE WHEN REGEXP_LIKE(LOWER(TRIM(EMAIL)), '^[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}$')
         THEN LOWER(TRIM(EMAIL)) END AS EMAIL,
    NULLIF(REGEXP_REPLACE(PHONE, '[^0-9+]', ''), '') AS PHONE,
    NULLIF(INITCAP(TRIM(CITY)), '') AS CITY,
    NULLIF(UPPER(TRIM(STATE)), '') AS STATE,
    NULLIF(TRIM(ZIP_CODE), '') AS ZIP_CODE,
    TRY_TO_DATE(TRIM(SIGNUP_DATE)) AS SIGNUP_DATE,
    CASE WHEN INITCAP(TRIM(LOYALTY_TIER)) IN ('Bronze', 'Silver', 'Gold', 'Platinum')
         THEN INITCAP(TRIM(LOYALTY_TIER)) END AS LOYALTY_TIER,
    CASE WHEN REGEXP_LIKE(TRIM(UPDATED_AT),
                          '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$')
              AND TRY_TO_DATE(LEFT(TRIM(UPDATED_AT), 10)) IS NOT NULL
         THEN CAST(REPLACE(TRIM(UPDATED_AT), 'T', ' ') AS TIMESTAMP_NTZ) END AS UPDATED_AT,
    _FILE_NAME AS SOURCE_FILE,
    _FILE_ROW_NUMBER AS SOURCE_ROW,
    _LOAD_SEQ AS LOAD_SEQ,
    _FILE_LAST_MODIFIED AS FILE_LAST_MODIFIED,
    _LOADED_AT AS LOADED_AT
  FROM {{ source('bronze', 'work_customer_copy') }}
)
SELECT CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE, SIGNUP_DATE,
       LOYALTY_TIER, UPDATED_AT, SOURCE_FILE, SOURCE_ROW,
       -- the snapshot's version time: a row without a valid UPDATED_AT counts as the oldest version
       COALESCE(UPDATED_AT, '1900-01-01 00:00:00'::TIMESTAMP_NTZ) AS VERSION_AT
FROM typed
WHERE CUSTOMER_ID IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY CUSTOMER_ID
  ORDER BY UPDATED_AT DESC NULLS LAST, LOAD_SEQ DESC NULLS LAST, FILE_LAST_MODIFIED DESC NULLS LAST,
           LOADED_AT DESC NULLS LAST, SOURCE_FILE DESC, SOURCE_ROW DESC
) = 1
