-- Warehouse → serving.customer_product_interactions: each customer's history per product, read by
-- the API per request (one indexed range of the primary key).
SELECT CUSTOMER_ID, PRODUCT_ID, VIEWS, CARTS, PURCHASES, DAYS_SINCE_PURCHASE
FROM {{ customer_product_interactions }}
ORDER BY CUSTOMER_ID, PRODUCT_ID
