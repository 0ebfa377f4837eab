-- Warehouse → serving.products: what the API returns with each recommendation.
SELECT PRODUCT_ID, PRODUCT_NAME, CATEGORY_ID, DEPARTMENT, CATEGORY_NAME, BRAND, PRICE
FROM {{ product_catalog }}
ORDER BY PRODUCT_ID
