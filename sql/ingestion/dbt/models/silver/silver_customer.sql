{{ config(alias='CUSTOMER') }}
-- DBT_SILVER.CUSTOMER: every customer of the Bronze landing table, typed and cleaned, latest version of a
-- key wins. The stored procedure's own transform (macros/feeds.sql: customer_xfm, which the procedure and
-- the local task render too), over all of Bronze instead of one stream batch, so on the same Bronze rows it
-- equals SILVER.CUSTOMER (tests/ingestion/test_dbt.py checks it).
SELECT customer.*,
       -- the snapshot's version time: a row without a valid UPDATED_AT counts as the oldest version
       COALESCE(customer.UPDATED_AT, '1900-01-01 00:00:00'::TIMESTAMP_NTZ) AS VERSION_AT
FROM (
{{ customer_xfm(source('bronze', 'work_customer_copy')) }}
) AS customer
