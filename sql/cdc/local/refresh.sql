-- Incremental refresh of the CDC dynamic tables on fakesnow, which has none. Snowflake recomputes only
-- what the new changes touch; so does this: the orders with a change logged after the last refresh's
-- watermark, then the (year, month, segment) groups those orders left or entered and the groups of the
-- new changes' images. Each dynamic table's own query (sql/cdc/*.sql) runs on just those rows. Every
-- read of the log stops at the refresh's watermark, so changes logged meanwhile wait for the next one.

-- name: create_refreshes
CREATE TABLE IF NOT EXISTS {{ refreshes }} (
    REFRESH_ID NUMBER(38, 0), MODE VARCHAR, SINCE_SEQ NUMBER(38, 0), UPTO_SEQ NUMBER(38, 0),
    CHANGES_READ NUMBER(38, 0), ORDERS_RECOMPUTED NUMBER(38, 0), GROUPS_RECOMPUTED NUMBER(38, 0),
    REFRESHED_AT TIMESTAMP_NTZ
)

-- name: last_refresh
SELECT COUNT(*), COALESCE(MAX(UPTO_SEQ), 0) FROM {{ refreshes }}

-- name: log_head
SELECT COALESCE(MAX(CHANGE_SEQ), 0), COALESCE(COUNT_IF(CHANGE_SEQ > {{ since }}), 0) FROM {{ changes }}

-- name: changes_upto
(SELECT * FROM {{ changes }} WHERE CHANGE_SEQ <= {{ upto }})

-- name: changed_orders
CREATE OR REPLACE TABLE {{ changed }} AS
SELECT DISTINCT ORDER_ID FROM {{ changes }} WHERE CHANGE_SEQ > {{ since }} AND CHANGE_SEQ <= {{ upto }}

-- name: groups_left
CREATE OR REPLACE TABLE {{ groups }} AS
SELECT DISTINCT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ derived }}
WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})

-- name: groups_entered
INSERT INTO {{ groups }}
SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ derived }}
WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }})
UNION
SELECT YEAR(ORDER_DATE), MONTH(ORDER_DATE), {{ change_segment }} FROM {{ changes }}
WHERE CHANGE_SEQ > {{ since }} AND CHANGE_SEQ <= {{ upto }}

-- name: distinct_groups
CREATE OR REPLACE TABLE {{ groups }} AS SELECT DISTINCT * FROM {{ groups }}

-- name: count_changed
SELECT (SELECT COUNT(*) FROM {{ changed }}), (SELECT COUNT(*) FROM {{ groups }})

-- name: changes_of_changed_orders
(SELECT * FROM {{ changes }}
 WHERE CHANGE_SEQ <= {{ upto }} AND ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }}))

-- name: current_of_changed_orders
(SELECT * FROM {{ current }} WHERE ORDER_ID IN (SELECT ORDER_ID FROM {{ changed }}))

-- name: derived_in_groups
(SELECT * FROM {{ derived }}
 WHERE (ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT) IN (SELECT ORDER_YEAR, ORDER_MONTH, VALUE_SEGMENT FROM {{ groups }}))

-- name: changes_in_groups
(SELECT * FROM {{ changes }}
 WHERE CHANGE_SEQ <= {{ upto }}
   AND (YEAR(ORDER_DATE), MONTH(ORDER_DATE), {{ change_segment }})
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
SELECT COALESCE(MAX(REFRESH_ID), 0) + 1, %s, {{ since }}, {{ upto }}, %s, %s, %s, %s
FROM {{ refreshes }}
