-- Destroying the account stack (or the environment's entry in it) removes the budget and its settings.
DROP SNOWFLAKE.CORE.BUDGET IF EXISTS {{ budget }}
