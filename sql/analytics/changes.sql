-- A day of changes in the e-commerce sources, as the post-deploy `changes` step applies them (new rows
-- are bulk-loaded; these are the updates). Parameters in the order the step passes them.

-- name: order_status
UPDATE {{ orders }} SET ORDER_STATUS = %s, UPDATED_AT = %s WHERE ORDER_ID = %s AND ORDER_STATUS <> 'CANCELLED';

-- name: customer_segment
UPDATE {{ customers }} SET SEGMENT = %s, UPDATED_AT = %s WHERE CUSTOMER_ID = %s;

-- name: product_price
UPDATE {{ products }} SET UNIT_PRICE = %s, UNIT_COST = %s, UPDATED_AT = %s WHERE PRODUCT_ID = %s;
