-- ORDER_LINES (dynamic table, DOWNSTREAM): each order item with its product and line amounts; the
-- three dynamic tables above it read it, so it refreshes only when they need it.
SELECT i.ORDER_ITEM_ID, i.ORDER_ID, i.PRODUCT_ID, p.PRODUCT_NAME, p.CATEGORY, i.QUANTITY, i.UNIT_PRICE, i.DISCOUNT_PCT,
       ROUND(i.QUANTITY * i.UNIT_PRICE * (100 - COALESCE(i.DISCOUNT_PCT, 0)) * 0.01, 2) AS LINE_REVENUE,
       i.QUANTITY * p.UNIT_COST AS LINE_COST
FROM {{ order_items }} i
JOIN {{ products }} p ON p.PRODUCT_ID = i.PRODUCT_ID
WHERE i.QUANTITY > 0
