-- Warehouse → serving.customer_candidates: each customer's retrieved products (any source), in stock
-- at home when the view was read, as one sorted array; the API keeps those still in stock in the
-- request's region.
SELECT CUSTOMER_ID, ARRAY_AGG(PRODUCT_ID) WITHIN GROUP (ORDER BY PRODUCT_ID) AS PRODUCT_IDS
FROM (SELECT DISTINCT CUSTOMER_ID, PRODUCT_ID FROM {{ customer_candidates }}) c
GROUP BY CUSTOMER_ID
ORDER BY CUSTOMER_ID
