-- Warehouse → serving.customer_candidates: each customer's retrieved products (any source), in stock
-- at home when the view was read; the API keeps those still in stock in the request's region.
SELECT DISTINCT CUSTOMER_ID, PRODUCT_ID
FROM {{ customer_candidates }}
ORDER BY CUSTOMER_ID, PRODUCT_ID
