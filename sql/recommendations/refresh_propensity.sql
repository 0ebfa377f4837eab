-- Body of REFRESH_PROPENSITY_TASK (daily): score every (customer, category) pair with the model the
-- post-deploy `train` step uploaded to the model stage, and replace the table in one statement.
INSERT OVERWRITE INTO {{ target }} (CUSTOMER_ID, CATEGORY_ID, PROPENSITY_SCORE, SCORED_AT)
SELECT CUSTOMER_ID, CATEGORY_ID, {{ udf }}({{ args }}), CURRENT_TIMESTAMP()
FROM {{ features }}
