-- The monitor's reads of the task graph and its streams (python -m scripts.monitor). On a stack they
-- are Snowflake's own metadata; on the stand-in the task graph's run log the local rehearsal keeps.

-- name: stack_tasks
-- Each task's last finished run of the past week.
SELECT NAME, STATE, ERROR_MESSAGE, COMPLETED_TIME
FROM TABLE({{ db }}.INFORMATION_SCHEMA.TASK_HISTORY(
    SCHEDULED_TIME_RANGE_START => DATEADD('day', -7, CURRENT_TIMESTAMP()), RESULT_LIMIT => 10000))
WHERE STATE NOT IN ('SCHEDULED', 'EXECUTING')
QUALIFY ROW_NUMBER() OVER (PARTITION BY SCHEMA_NAME, NAME ORDER BY SCHEDULED_TIME DESC) = 1
ORDER BY NAME;

-- name: stack_streams
SHOW STREAMS IN DATABASE {{ db }};

-- name: local_tasks
-- Each task's last run in the rehearsal's log (SUCCEEDED, FAILED or SKIPPED).
SELECT TASK_NAME, STATE, REASON, FINISHED_AT
FROM {{ history }}
QUALIFY ROW_NUMBER() OVER (PARTITION BY TASK_NAME ORDER BY RUN_ID DESC, FINISHED_AT DESC) = 1
ORDER BY TASK_NAME;
