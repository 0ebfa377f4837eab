-- Warehouse → serving.product_popularity: purchases per product over the last 30, 90 and 365 days.
SELECT PRODUCT_ID, PURCHASES_30D, PURCHASES_90D, PURCHASES_365D
FROM {{ product_popularity }}
ORDER BY PRODUCT_ID
