-- Incremental refresh of the CDC dynamic tables on fakesnow, which has none. Snowflake recomputes only
-- what the new changes touch; so does this: the changes not applied yet (the log minus the applied
-- set: sequence blocks make CHANGE_SEQ a per-order order, not a load order, so a watermark would miss a
-- slower writer's lower block), the orders they belong to, and the (year, month, segment) groups those
-- orders left or entered or the new changes fall in. Each dynamic table's own query (sql/cdc/*.sql)
-- runs on just those rows. The whole refresh is one transaction: every statement sees one snapshot of
-- the log, and changes committed meanwhile wait for the next refresh.

-- name: create_refreshes
CREATE TABLE IF NOT EXISTS {{ refreshes }} (
    REFRESH_ID NUMBER(38, 0), MODE VARCHAR, CHANGES_READ NUMBER(38, 0), ORDERS_RECOMPUTED NUMBER(38, 0),
    GROUPS_RECOMPUTED NUMBER(38, 0), REFRESHED_AT TIMESTAMP_NTZ
)

-- name: create_applied
CREATE TABLE IF NOT EXISTS {{ applied }} (CHANGE_SEQ NUMBER(38, 0))

-- name: refreshes_so_far
SELECT COUNT(*) FROM {{ refreshes }}

-- name: new_changes
CREATE OR REPLACE TABLE {{ new }} AS
SELECT c.CHANGE_SEQ, c.ORDER_ID, c.ORDER_DATE, c.AMOUNT
FROM {{ changes }} AS c
WHERE NOT EXISTS (SELECT 1 FROM {{ applied }} AS a WHERE a.CHANGE_SEQ = c.CHANGE_SEQ)

-- name: count_new
SELECT COUNT(*) FROM {{ new }}

-- name: mark_all_applied
CREATE OR REPLACE TABLE {{ applied }} AS SELECT CHANGE_SEQ FROM {{ changes }}

-- name: mark_new_applied
INSERT INTO {{ applied }} SELECT CHANGE_SEQ FROM {{ new }}

-- name: changed_orders
CREATE OR REPLACE TABLE {{ changed }} AS SELECT DISTINCT ORDER_ID FROM {{ new }}

-- name: groups_left
CREATE OR REPLACE TABLE {{ groups }} AS
SELECT DISTINCT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ derived }}
WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})

-- name: groups_entered
INSERT INTO {{ groups }}
SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ derived }}
WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})
UNION
SELECT YEAR(ORDER_DATE), MONTH(ORDER_DATE), {{ change_segment }} FROM {{ new }}

-- name: distinct_groups
CREATE OR REPLACE TABLE {{ groups }} AS SELECT DISTINCT * FROM {{ groups }}

-- name: count_changed
SELECT (SELECT COUNT(*) FROM {{ changed }}), (SELECT COUNT(*) FROM {{ groups }})

-- name: changes_of_changed_orders
(SELECT * FROM {{ changes }} WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }}))

-- name: current_of_changed_orders
(SELECT * FROM {{ current }} WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }}))

-- name: derived_in_groups
(SELECT * FROM {{ derived }}
 WHERE (ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT) IN (SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ groups }}))

-- name: changes_in_groups
(SELECT * FROM {{ changes }}
 WHERE (YEAR(ORDER_DATE), MONTH(ORDER_DATE), {{ change_segment }})
       IN (SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ groups }}))

-- name: delete_current
DELETE FROM {{ current }} WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})

-- name: delete_derived
DELETE FROM {{ derived }} WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})

-- name: delete_aggregated
DELETE FROM {{ aggregated }}
WHERE (ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT) IN (SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ groups }})

-- name: record
INSERT INTO {{ refreshes }}
SELECT COALESCE(MAX(REFRESH_ID), 0) + 1, %s, %s, %s, %s, %s FROM {{ refreshes }}
