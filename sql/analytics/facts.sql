-- FACT_SALES: one row per order item, loaded by MERGE on ORDER_ITEM_ID (a re-run changes nothing).
-- Items wait in PENDING_ORDER_ITEMS until their order, customer and product exist: a late-arriving
-- dimension row delays a fact, it never drops it (the stream's offset moves, the pending row stays).
-- Each fact points to the dimension versions valid at its order's timestamp.

-- name: capture_items
INSERT INTO {{ pending }} (ORDER_ITEM_ID, ORDER_ID, PRODUCT_ID, QUANTITY, UNIT_PRICE, DISCOUNT_PCT, CREATED_AT, CAPTURED_AT)
SELECT s.ORDER_ITEM_ID, s.ORDER_ID, s.PRODUCT_ID, s.QUANTITY, s.UNIT_PRICE, s.DISCOUNT_PCT, s.CREATED_AT, CURRENT_TIMESTAMP()
FROM {{ items_stream }} s
WHERE s.METADATA$ACTION = 'INSERT'
  AND NOT EXISTS (SELECT 1 FROM {{ pending }} p WHERE p.ORDER_ITEM_ID = s.ORDER_ITEM_ID)
  AND NOT EXISTS (SELECT 1 FROM {{ facts }} f WHERE f.ORDER_ITEM_ID = s.ORDER_ITEM_ID);

-- name: reject_items
INSERT INTO {{ rejects }} (SOURCE_TABLE, SOURCE_KEY, REASON, RECORD, REJECTED_AT)
SELECT '{{ items_name }}', TO_VARCHAR(w.ORDER_ITEM_ID), {{ item_reason }}, {{ item_record }}, w.CAPTURED_AT
FROM {{ pending }} w
WHERE {{ item_reason }} IS NOT NULL;

-- name: drop_rejected_items
DELETE FROM {{ pending }}
WHERE ORDER_ITEM_ID IN (SELECT w.ORDER_ITEM_ID FROM {{ pending }} w WHERE {{ item_reason }} IS NOT NULL);

-- name: clear_order_changes
DELETE FROM {{ order_changes }};

-- name: capture_orders
INSERT INTO {{ order_changes }} (ORDER_ID, CUSTOMER_ID, ORDER_TS, ORDER_STATUS, PAYMENT_METHOD, SHIPPING_COUNTRY, UPDATED_AT, CHANGE_ACTION, CAPTURED_AT)
SELECT s.ORDER_ID, s.CUSTOMER_ID, s.ORDER_TS, s.ORDER_STATUS, s.PAYMENT_METHOD, s.SHIPPING_COUNTRY, s.UPDATED_AT, s.METADATA$ACTION, CURRENT_TIMESTAMP()
FROM {{ orders_stream }} s;

-- name: reject_orders
INSERT INTO {{ rejects }} (SOURCE_TABLE, SOURCE_KEY, REASON, RECORD, REJECTED_AT)
SELECT '{{ orders_name }}', TO_VARCHAR(w.ORDER_ID), {{ order_reason }}, {{ order_record }}, w.CAPTURED_AT
FROM {{ order_changes }} w
WHERE w.CHANGE_ACTION = 'INSERT' AND {{ order_reason }} IS NOT NULL;

-- name: extend_dates
INSERT INTO {{ dim_date }} (DATE_KEY, FULL_DATE, YEAR, QUARTER, MONTH, MONTH_NAME, DAY_OF_MONTH, DAY_OF_WEEK, DAY_NAME, IS_WEEKEND)
SELECT YEAR(g.D) * 10000 + MONTH(g.D) * 100 + DAY(g.D), g.D, YEAR(g.D), QUARTER(g.D), MONTH(g.D), MONTHNAME(g.D), DAY(g.D),
       DAYOFWEEKISO(g.D), DAYNAME(g.D), DAYOFWEEKISO(g.D) >= 6
FROM (
  SELECT DATEADD(day, ROW_NUMBER() OVER (ORDER BY SEQ4()) - 1, r.FIRST_DAY) AS D, r.LAST_DAY
  FROM TABLE(GENERATOR(ROWCOUNT => 36600))
  CROSS JOIN (
    SELECT MIN(ORDER_TS)::DATE AS FIRST_DAY,
           DATEADD(day, {{ horizon_days }}, GREATEST(MAX(ORDER_TS)::DATE, CURRENT_DATE())) AS LAST_DAY
    FROM {{ orders }}
    WHERE ORDER_TS IS NOT NULL
  ) r
  WHERE r.FIRST_DAY IS NOT NULL
) g
WHERE g.D <= g.LAST_DAY
  AND NOT EXISTS (SELECT 1 FROM {{ dim_date }} x WHERE x.FULL_DATE = g.D);

-- name: refresh_status
UPDATE {{ facts }} f
SET ORDER_STATUS = o.ORDER_STATUS, PAYMENT_METHOD = o.PAYMENT_METHOD, IS_CANCELLED = o.ORDER_STATUS = 'CANCELLED',
    LOADED_AT = CURRENT_TIMESTAMP()
FROM (
  SELECT w.* FROM {{ order_changes }} w
  WHERE w.CHANGE_ACTION = 'INSERT' AND {{ order_reason }} IS NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY w.ORDER_ID ORDER BY w.UPDATED_AT DESC NULLS LAST) = 1
) o
WHERE f.ORDER_ID = o.ORDER_ID
  AND (f.ORDER_STATUS IS DISTINCT FROM o.ORDER_STATUS OR f.PAYMENT_METHOD IS DISTINCT FROM o.PAYMENT_METHOD);

-- name: load_facts
MERGE INTO {{ facts }} f
USING (
  SELECT p.ORDER_ITEM_ID, p.ORDER_ID, dd.DATE_KEY, c.CUSTOMER_SK, pr.PRODUCT_SK, o.CUSTOMER_ID, p.PRODUCT_ID,
         o.ORDER_TS, o.ORDER_STATUS, o.PAYMENT_METHOD, p.QUANTITY, p.UNIT_PRICE, p.DISCOUNT_PCT,
         p.QUANTITY * p.UNIT_PRICE AS GROSS_AMOUNT,
         ROUND(p.QUANTITY * p.UNIT_PRICE * (100 - COALESCE(p.DISCOUNT_PCT, 0)) * 0.01, 2) AS NET_AMOUNT,
         p.QUANTITY * pr.UNIT_COST AS COST_AMOUNT,
         o.ORDER_STATUS = 'CANCELLED' AS IS_CANCELLED
  FROM {{ pending }} p
  JOIN (
    SELECT w.* FROM {{ orders }} w
    WHERE {{ order_reason }} IS NULL
    QUALIFY ROW_NUMBER() OVER (PARTITION BY w.ORDER_ID ORDER BY w.UPDATED_AT DESC NULLS LAST) = 1
  ) o ON o.ORDER_ID = p.ORDER_ID
  JOIN {{ dim_customer }} c ON c.CUSTOMER_ID = o.CUSTOMER_ID
  JOIN {{ dim_product }} pr ON pr.PRODUCT_ID = p.PRODUCT_ID
  JOIN {{ dim_date }} dd ON dd.FULL_DATE = o.ORDER_TS::DATE
  -- the versions valid at the order's timestamp, as a filter on the key joins (a range join condition
  -- would let an engine pick an inequality join over all versions)
  WHERE IFF(o.ORDER_TS >= c.VALID_FROM AND o.ORDER_TS < c.VALID_TO, TRUE, FALSE)
    AND IFF(o.ORDER_TS >= pr.VALID_FROM AND o.ORDER_TS < pr.VALID_TO, TRUE, FALSE)
) s
ON f.ORDER_ITEM_ID = s.ORDER_ITEM_ID
WHEN NOT MATCHED THEN INSERT (
  ORDER_ITEM_ID, ORDER_ID, DATE_KEY, CUSTOMER_SK, PRODUCT_SK, CUSTOMER_ID, PRODUCT_ID, ORDER_TS, ORDER_STATUS,
  PAYMENT_METHOD, QUANTITY, UNIT_PRICE, DISCOUNT_PCT, GROSS_AMOUNT, NET_AMOUNT, COST_AMOUNT, PROFIT, IS_CANCELLED, LOADED_AT
) VALUES (
  s.ORDER_ITEM_ID, s.ORDER_ID, s.DATE_KEY, s.CUSTOMER_SK, s.PRODUCT_SK, s.CUSTOMER_ID, s.PRODUCT_ID, s.ORDER_TS,
  s.ORDER_STATUS, s.PAYMENT_METHOD, s.QUANTITY, s.UNIT_PRICE, s.DISCOUNT_PCT, s.GROSS_AMOUNT, s.NET_AMOUNT,
  s.COST_AMOUNT, s.NET_AMOUNT - s.COST_AMOUNT, s.IS_CANCELLED, CURRENT_TIMESTAMP()
);

-- name: clear_loaded
DELETE FROM {{ pending }} WHERE ORDER_ITEM_ID IN (SELECT ORDER_ITEM_ID FROM {{ facts }});
