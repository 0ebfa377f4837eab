-- Why a product row cannot enter DIM_PRODUCT (NULL when it can).
CASE
  WHEN w.PRODUCT_ID IS NULL THEN 'PRODUCT_ID is missing'
  WHEN w.UNIT_PRICE IS NULL OR w.UNIT_PRICE < 0 THEN 'UNIT_PRICE is missing or negative'
  WHEN w.UNIT_COST IS NULL OR w.UNIT_COST < 0 THEN 'UNIT_COST is missing or negative'
END
