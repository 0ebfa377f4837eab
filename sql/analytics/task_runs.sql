-- The analytics tasks' runs scheduled since the post-deploy `run` step started them, oldest first: the
-- step waits on these to run the summary after the facts (TASK_HISTORY shows what the role may MONITOR).
SELECT NAME, STATE, COALESCE(ERROR_MESSAGE, '')
FROM TABLE({{ db }}.INFORMATION_SCHEMA.TASK_HISTORY(
    SCHEDULED_TIME_RANGE_START => TO_TIMESTAMP_LTZ(%s), RESULT_LIMIT => 1000))
WHERE SCHEMA_NAME = %s
ORDER BY SCHEDULED_TIME;
