-- The local pipe's bookkeeping on fakesnow: Snowflake keeps these in COPY_HISTORY and
-- VALIDATE_PIPE_LOAD; locally they are tables, so runs can be inspected and tests can assert on them.

-- name: create_rejects
CREATE TABLE IF NOT EXISTS {{ rejects }} (
    FILE_NAME VARCHAR, LINE NUMBER(38,0), REASON VARCHAR, RAW_RECORD VARCHAR, REJECTED_AT TIMESTAMP_NTZ
);

-- name: create_load_history
CREATE TABLE IF NOT EXISTS {{ load_history }} (
    FILE_NAME VARCHAR, ETAG VARCHAR, STATUS VARCHAR, ROWS_LOADED NUMBER(38,0), ROWS_REJECTED NUMBER(38,0),
    LOADED_AT TIMESTAMP_NTZ
);

-- name: seen_before
-- Any outcome counts, LOAD_FAILED included, as in Snowpipe's load history: the same bytes again
-- would fail the same way.
SELECT STATUS FROM {{ load_history }}
WHERE FILE_NAME = %s AND ETAG = %s
ORDER BY LOADED_AT DESC LIMIT 1;

-- name: last_load_seq
SELECT COALESCE(MAX(_LOAD_SEQ), 0) FROM {{ bronze }};

-- name: record_load
INSERT INTO {{ load_history }} VALUES (%s, %s, %s, %s, %s, CURRENT_TIMESTAMP());

-- name: record_reject
INSERT INTO {{ rejects }} (FILE_NAME, LINE, REASON, RAW_RECORD, REJECTED_AT)
VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP());

-- name: first_rejects
SELECT FILE_NAME, LINE, REASON FROM {{ rejects }} ORDER BY FILE_NAME, LINE LIMIT %s;

-- name: load_file
-- fakesnow's COPY INTO cannot bind files wider than ten columns, so the stand-in reads the staged
-- file with DuckDB's read_csv, which fakesnow passes through.
INSERT INTO {{ bronze }} ({{ bronze_columns }})
SELECT * FROM read_csv(%s, header = false, all_varchar = true, quote = '"', escape = '"');
