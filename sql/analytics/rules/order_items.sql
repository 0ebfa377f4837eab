-- Why an order item cannot become a fact (NULL when it can).
CASE
  WHEN w.ORDER_ITEM_ID IS NULL OR w.ORDER_ID IS NULL OR w.PRODUCT_ID IS NULL THEN 'ORDER_ITEM_ID, ORDER_ID or PRODUCT_ID is missing'
  WHEN w.QUANTITY IS NULL OR w.QUANTITY <= 0 THEN 'QUANTITY is not a positive number'
  WHEN w.UNIT_PRICE IS NULL OR w.UNIT_PRICE < 0 THEN 'UNIT_PRICE is missing or negative'
  WHEN w.DISCOUNT_PCT < 0 OR w.DISCOUNT_PCT > 100 THEN 'DISCOUNT_PCT is outside 0..100'
END
