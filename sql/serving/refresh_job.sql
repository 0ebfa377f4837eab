-- The scheduled refresh task's statement (infra/serving/refresh.py): the refresh image as a job service on
-- the API's compute pool. Synchronous (ASYNC is FALSE by default): the task's run lasts as long as the job.
-- No NAME (optional): each run's job gets its own, so no run meets the one before it (a finished job is kept for days).
-- The parameters in the order Snowflake requires them.
EXECUTE JOB SERVICE
  IN COMPUTE POOL {{ pool }}
  FROM SPECIFICATION $$
{{ spec }}
$$
  QUERY_WAREHOUSE = {{ warehouse }}
  COMMENT = 'scheduled refresh of the serving stores: train when due, sync, export'
  EXTERNAL_ACCESS_INTEGRATIONS = ({{ integration }})
