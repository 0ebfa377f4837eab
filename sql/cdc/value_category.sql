-- The order-value category the business reports use: above 100 is High Value, the rest Low Value; no
-- amount is Unknown (never counted as Low Value).
CASE
    WHEN {{ amount }} IS NULL THEN 'Unknown'
    WHEN {{ amount }} > 100 THEN 'High Value'
    ELSE 'Low Value'
END
