-- The environment's Snowflake budget (a SNOWFLAKE.CORE.BUDGET instance): what its resource monitor cannot
-- stop (compute pools, serverless tasks, dynamic-table refreshes, Snowpipe) is at least seen and mailed.
CREATE SNOWFLAKE.CORE.BUDGET IF NOT EXISTS {{ budget }}()
  COMMENT = 'monthly credits of {{ stack }} beyond its warehouses (the account stack)'
