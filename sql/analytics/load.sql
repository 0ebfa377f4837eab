-- How the `generate` and `changes` steps bulk-load the sources. Into Snowflake, as LOADER: each table's
-- Parquet file PUT to the declared BRONZE.SHOP_LOAD_STAGE in a folder of its own and COPY'd into the
-- table by column name, then purged (INSERT on the table, READ and WRITE on the stage; no temporary
-- stage, so no CREATE STAGE). On the stand-in: the same file inserted in one statement.

-- name: put
PUT 'file://{{ path }}' @{{ stage }}/{{ folder }} AUTO_COMPRESS = FALSE OVERWRITE = TRUE

-- name: copy
COPY INTO {{ table }}
FROM @{{ stage }}/{{ folder }}
FILE_FORMAT = (TYPE = PARQUET)
MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE
PURGE = TRUE

-- name: insert_file
INSERT INTO {{ table }} SELECT * FROM read_parquet(%s)
