-- What the ranking model's training reads: customers, their category propensities, the catalogue,
-- in-stock inventory, and who bought what in the label window (the 30 days before AS_OF).

-- name: customers
SELECT CUSTOMER_ID, ZIP_CODE, AVG_ORDER_VALUE, ENGAGEMENT_SCORE,
       CASE LOYALTY_TIER WHEN 'Bronze' THEN 0 WHEN 'Silver' THEN 1 WHEN 'Gold' THEN 2 WHEN 'Platinum' THEN 3 END,
       TOTAL_ORDERS, DAYS_SINCE_PURCHASE
FROM {{ customer_360 }}
ORDER BY CUSTOMER_ID
LIMIT {{ max_customers }};

-- name: propensity
SELECT CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE FROM {{ propensity }};

-- name: products
SELECT PRODUCT_ID, CATEGORY_ID, PRICE FROM {{ products }};

-- name: in_stock
SELECT REGION, PRODUCT_ID, QTY_ON_HAND, EST_DELIVERY_DAYS FROM {{ inventory }} WHERE QTY_ON_HAND > 0;

-- name: bought_since
SELECT DISTINCT CUSTOMER_ID, PRODUCT_ID FROM {{ events }}
WHERE EVENT_TYPE IN ('order_complete', 'pos_purchase') AND EVENT_TIMESTAMP >= CAST(%s AS TIMESTAMP);
