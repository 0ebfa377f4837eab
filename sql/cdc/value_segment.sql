-- The value segment of an order amount (thresholds as the business reads them); no amount is UNKNOWN.
CASE
    WHEN {{ amount }} IS NULL THEN 'UNKNOWN'
    WHEN {{ amount }} > 200 THEN 'HIGH_VALUE'
    WHEN {{ amount }} > 100 THEN 'MEDIUM_VALUE'
    ELSE 'LOW_VALUE'
END
