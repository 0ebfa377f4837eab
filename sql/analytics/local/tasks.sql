-- The task graph's run log on fakesnow (Snowflake keeps it in TASK_HISTORY).

-- name: create_history
CREATE TABLE IF NOT EXISTS {{ history }} (
  RUN_ID NUMBER(38,0), TASK_NAME VARCHAR, STATE VARCHAR, REASON VARCHAR, STARTED_AT TIMESTAMP_NTZ, FINISHED_AT TIMESTAMP_NTZ
)

-- name: next_run
SELECT COALESCE(MAX(RUN_ID), 0) + 1 FROM {{ history }}

-- name: record
INSERT INTO {{ history }} VALUES (%s, %s, %s, %s, %s, %s)
