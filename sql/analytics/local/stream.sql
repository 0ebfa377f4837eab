-- Streams on fakesnow, which has none: each stream keeps a copy of its table as of its offset, and
-- its contents are the net change since then, row by row (a multiset difference, as Snowflake tracks
-- rows, not keys). An updated row shows as a DELETE of the old row and an INSERT of the new one, both
-- with METADATA$ISUPDATE = TRUE; a deleted row as a DELETE; a standard stream reports all three, an
-- append-only stream only inserts. Consuming the stream moves the offset: the copy becomes the table.

-- name: standard
(WITH ins AS (SELECT * FROM {{ table }} EXCEPT ALL SELECT * FROM {{ offset }}),
      del AS (SELECT * FROM {{ offset }} EXCEPT ALL SELECT * FROM {{ table }})
 SELECT ins.*, 'INSERT' AS METADATA$ACTION,
        EXISTS (SELECT 1 FROM del WHERE EQUAL_NULL(del.{{ key }}, ins.{{ key }})) AS METADATA$ISUPDATE
 FROM ins
 UNION ALL
 SELECT del.*, 'DELETE' AS METADATA$ACTION,
        EXISTS (SELECT 1 FROM ins WHERE EQUAL_NULL(ins.{{ key }}, del.{{ key }})) AS METADATA$ISUPDATE
 FROM del)

-- name: append_only
(SELECT ins.*, 'INSERT' AS METADATA$ACTION, FALSE AS METADATA$ISUPDATE
 FROM (SELECT * FROM {{ table }} EXCEPT ALL SELECT * FROM {{ offset }}) ins)

-- name: create_offset
CREATE TABLE IF NOT EXISTS {{ offset }} AS SELECT * FROM {{ table }} WHERE FALSE

-- name: clear_offset
DELETE FROM {{ offset }}

-- name: advance_offset
INSERT INTO {{ offset }} SELECT * FROM {{ table }}
