-- Warehouse → serving.product_popularity: purchases per product over the last 30, 90 and 365 days,
-- views by everyone over 365 days and the category's repeat rate (services/features/taste.py).
SELECT PRODUCT_ID, PURCHASES_30D, PURCHASES_90D, PURCHASES_365D, VIEWS_365D, REPEAT_RATE
FROM {{ product_popularity }}
ORDER BY PRODUCT_ID
