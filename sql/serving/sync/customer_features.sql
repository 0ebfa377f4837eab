-- Warehouse → serving.customer_features. Each output column is named as the Postgres column it fills
-- (case-insensitively); the sync checks the names against the migrated table before it loads.
SELECT CUSTOMER_ID, AGE, TENURE_MONTHS,
       CASE LOYALTY_TIER WHEN 'Bronze' THEN 0 WHEN 'Silver' THEN 1 WHEN 'Gold' THEN 2 WHEN 'Platinum' THEN 3 END
           AS LOYALTY_TIER_NUM,
       TOTAL_ORDERS, LIFETIME_SPEND, AVG_ORDER_VALUE, DAYS_SINCE_PURCHASE, CATEGORIES_PURCHASED,
       TOTAL_BROWSE_EVENTS, TOTAL_SESSIONS, AVG_BROWSED_PRICE, ADD_TO_CART_COUNT, CART_ABANDONMENT_RATE,
       STORE_RATIO, ENGAGEMENT_SCORE, {{ home_region }} AS HOME_REGION
FROM {{ customer_360 }}
ORDER BY CUSTOMER_ID
