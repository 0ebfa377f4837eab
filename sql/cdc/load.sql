-- How the generator writes changes. Into Snowflake: a Parquet file PUT to the change log's stage and
-- COPY'd into ORDER_CHANGES by column name (INSERT on the table, READ and WRITE on the stage: all the
-- generator's role may do). On the stand-in: the same file inserted in one statement. `one_event` is
-- the one-statement-per-event way, kept only to measure against.

-- name: put
PUT 'file://{{ path }}' @{{ stage }}/{{ folder }} AUTO_COMPRESS = FALSE OVERWRITE = TRUE

-- name: copy
COPY INTO {{ changes }}
FROM @{{ stage }}/{{ folder }}
FILE_FORMAT = (TYPE = PARQUET)
MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
PURGE = TRUE

-- name: insert_file
INSERT INTO {{ changes }} ({{ columns }}) SELECT {{ columns }} FROM read_parquet(%s)

-- name: one_event
INSERT INTO {{ changes }} ({{ columns }}) VALUES ({{ markers }})
