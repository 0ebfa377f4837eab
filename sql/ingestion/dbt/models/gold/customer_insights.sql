{{ config(alias='CUSTOMER_INSIGHTS') }}
-- DBT_GOLD.CUSTOMER_INSIGHTS: the analyst-facing view of each current customer with what its history says
-- (how many versions the snapshot holds, since when the current one is valid, when the customer was first
-- seen), for segmenting by tier, place and tenure.
WITH history AS (
  SELECT CUSTOMER_ID,
         COUNT(*) AS VERSIONS,
         MIN(DBT_VALID_FROM) AS FIRST_SEEN_AT,
         MAX(CASE WHEN DBT_VALID_TO IS NULL THEN DBT_VALID_FROM END) AS CURRENT_SINCE
  FROM {{ ref('customer_history') }}
  GROUP BY CUSTOMER_ID
)
SELECT
  c.CUSTOMER_ID,
  TRIM(COALESCE(c.FIRST_NAME, '') || ' ' || COALESCE(c.LAST_NAME, '')) AS FULL_NAME,
  c.EMAIL,
  c.CITY,
  c.STATE,
  COALESCE(c.LOYALTY_TIER, 'Unknown') AS LOYALTY_TIER,
  c.SIGNUP_DATE,
  DATEDIFF('day', c.SIGNUP_DATE, CURRENT_DATE()) AS TENURE_DAYS,
  h.VERSIONS,
  h.VERSIONS - 1 AS CHANGES,
  h.FIRST_SEEN_AT,
  h.CURRENT_SINCE
FROM {{ ref('silver_customer') }} c
JOIN history h ON h.CUSTOMER_ID = c.CUSTOMER_ID
