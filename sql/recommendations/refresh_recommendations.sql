-- Body of REFRESH_RECOMMENDATIONS_TASK: replace the table's contents in one statement.
INSERT OVERWRITE INTO {{ target }} (USER_ID, RANK, PRODUCT_ID, CATEGORY_ID, PURCHASE_COUNT, SOURCE)
{{ select }}
