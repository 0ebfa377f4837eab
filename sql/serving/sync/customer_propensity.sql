-- Warehouse → serving.customer_propensity (12 rows per customer, one per category).
SELECT CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE
FROM {{ customer_propensity }}
ORDER BY CUSTOMER_ID, CATEGORY_ID
