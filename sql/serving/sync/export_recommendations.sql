-- Warehouse → DynamoDB product_recommendations: the rows grouped into one item per user.
SELECT USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT, SOURCE
FROM {{ recommendations }}
ORDER BY USER_ID, RANK
