-- The body of STREAM_STATES(): the database's streams as SHOW STREAMS reports them, as a table an
-- alert's condition can select from (a SHOW cannot be filtered inside a condition; a stored procedure
-- that returns a table can be called in a SELECT's FROM clause). It only reads: the judging is the
-- stream_stale condition in alerts.sql.
DECLARE
    res RESULTSET;
BEGIN
    SHOW STREAMS IN DATABASE {{ db }};
    res := (
        SELECT "schema_name" AS SCHEMA_NAME, "name" AS NAME, "stale"::VARCHAR AS STALE,
               "stale_after"::TIMESTAMP_LTZ AS STALE_AFTER
        FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))
    );
    RETURN TABLE(res);
END;
