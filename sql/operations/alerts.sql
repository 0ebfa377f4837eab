-- The operations alerts' conditions (infra/operations): each returns one row per problem that arose
-- since the alert's last successful run, so a problem notifies once, not on every run while it lasts.
-- On a stack the sources are Snowflake's metadata and the run times the alert's own
-- (SNOWFLAKE.ALERT.SCHEDULED_TIME() and LAST_SUCCESSFUL_SCHEDULED_TIME(), NULL before a first success);
-- tests/operations fill the same placeholders with fixture tables of the same shape and fixed times, so
-- the judging below is the very text the plan declares. The thresholds are the monitor's
-- (services/features/health.py): a failed state, twice the target lag, stale within a day.

-- name: task_failed
-- A task of the database whose run failed (or was cancelled) since the last run.
WITH run AS (
    SELECT {{ this_run }} AS THIS_RUN, COALESCE({{ last_run }}, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_RUN
)
SELECT h.SCHEMA_NAME, h.NAME, h.STATE, h.ERROR_MESSAGE, h.COMPLETED_TIME
FROM {{ task_history }} AS h, run
WHERE h.STATE IN ({{ failed_task_states }})
  AND h.COMPLETED_TIME > run.LAST_RUN AND h.COMPLETED_TIME <= run.THIS_RUN;

-- name: dynamic_table_behind
-- A dynamic table whose refresh failed since the last run, or whose lag (time since the data timestamp
-- of its last successful refresh) went over {{ lag_factor }}x its target lag since the last run.
WITH run AS (
    SELECT {{ this_run }} AS THIS_RUN, COALESCE({{ last_run }}, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_RUN
),
targets AS (
    {{ lag_targets }}
),
good AS (
    SELECT t.SCHEMA_NAME, t.NAME, t.TARGET_SECONDS,
           COALESCE(MAX(IFF(h.STATE = 'SUCCEEDED', h.DATA_TIMESTAMP, NULL)),
                    '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_GOOD
    FROM targets AS t
    LEFT JOIN {{ refresh_history }} AS h ON h.SCHEMA_NAME = t.SCHEMA_NAME AND h.NAME = t.NAME
    GROUP BY t.SCHEMA_NAME, t.NAME, t.TARGET_SECONDS
)
SELECT h.SCHEMA_NAME, h.NAME, h.STATE AS PROBLEM, h.STATE_MESSAGE AS DETAIL
FROM {{ refresh_history }} AS h, run
WHERE h.STATE IN ({{ failed_refresh_states }})
  AND h.REFRESH_END_TIME > run.LAST_RUN AND h.REFRESH_END_TIME <= run.THIS_RUN
UNION ALL
SELECT g.SCHEMA_NAME, g.NAME, 'LAGGING' AS PROBLEM,
       'last good data ' || TO_VARCHAR(g.LAST_GOOD) || ', target ' || TO_VARCHAR(g.TARGET_SECONDS) || ' s' AS DETAIL
FROM good AS g, run
WHERE g.LAST_GOOD < DATEADD('second', -{{ lag_factor }} * g.TARGET_SECONDS, run.THIS_RUN)
  AND g.LAST_GOOD >= DATEADD('second', -{{ lag_factor }} * g.TARGET_SECONDS, run.LAST_RUN);

-- name: pipe_unhealthy
-- The pipe's loads that failed (wholly or partly) since the last run, or the pipe falling silent: its
-- last load became older than {{ silence_hours }} hours since the last run.
WITH run AS (
    SELECT {{ this_run }} AS THIS_RUN, COALESCE({{ last_run }}, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_RUN
),
loads AS (
    SELECT * FROM {{ copy_history }} WHERE PIPE_SCHEMA_NAME = '{{ pipe_schema }}' AND PIPE_NAME = '{{ pipe_name }}'
),
last_load AS (
    SELECT COALESCE(MAX(IFF(ROW_COUNT > 0, LAST_LOAD_TIME, NULL)), '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS AT
    FROM loads
)
SELECT l.FILE_NAME AS WHAT, l.STATUS AS PROBLEM, l.FIRST_ERROR_MESSAGE AS DETAIL
FROM loads AS l, run
WHERE (l.ERROR_COUNT > 0 OR UPPER(l.STATUS) IN ('LOAD FAILED', 'PARTIALLY LOADED'))
  AND l.LAST_LOAD_TIME > run.LAST_RUN AND l.LAST_LOAD_TIME <= run.THIS_RUN
UNION ALL
SELECT '{{ pipe_name }}' AS WHAT, 'SILENT' AS PROBLEM, 'last load ' || TO_VARCHAR(s.AT) AS DETAIL
FROM last_load AS s, run
WHERE s.AT < DATEADD('hour', -{{ silence_hours }}, run.THIS_RUN)
  AND s.AT >= DATEADD('hour', -{{ silence_hours }}, run.LAST_RUN);

-- name: stream_stale
-- A stream that went stale, or came within {{ stale_within_hours }} hours of it, since the last run.
WITH run AS (
    SELECT {{ this_run }} AS THIS_RUN, COALESCE({{ last_run }}, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_RUN
)
SELECT s.SCHEMA_NAME, s.NAME, s.STALE, s.STALE_AFTER
FROM {{ streams }} AS s, run
WHERE COALESCE(s.STALE_AFTER, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) <= DATEADD('hour', {{ stale_within_hours }}, run.THIS_RUN)
  AND COALESCE(s.STALE_AFTER, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) > DATEADD('hour', {{ stale_within_hours }}, run.LAST_RUN);

-- name: serving_stale
-- The serving stores' refresh task's last successful run became older than {{ max_age_hours }} hours
-- since the last run.
WITH run AS (
    SELECT {{ this_run }} AS THIS_RUN, COALESCE({{ last_run }}, '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS LAST_RUN
),
refreshed AS (
    SELECT COALESCE(MAX(COMPLETED_TIME), '1970-01-01 00:00:00'::TIMESTAMP_LTZ) AS AT
    FROM {{ task_history }}
    WHERE SCHEMA_NAME = '{{ refresh_schema }}' AND NAME = '{{ refresh_task }}' AND STATE = 'SUCCEEDED'
)
SELECT '{{ refresh_task }}' AS NAME, 'last successful refresh ' || TO_VARCHAR(r.AT) AS DETAIL
FROM refreshed AS r, run
WHERE r.AT < DATEADD('hour', -{{ max_age_hours }}, run.THIS_RUN)
  AND r.AT >= DATEADD('hour', -{{ max_age_hours }}, run.LAST_RUN);
