-- Warehouse → serving.inventory; zero-stock rows included (the API filters on qty_on_hand > 0).
SELECT REGION, PRODUCT_ID, WAREHOUSE_NAME, QTY_ON_HAND, EST_DELIVERY_DAYS
FROM {{ inventory }}
ORDER BY REGION, PRODUCT_ID
