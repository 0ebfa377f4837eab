-- SCD Type 2 for one dimension, from the source table's standard stream. The same statements run for
-- DIM_CUSTOMER and DIM_PRODUCT (placeholders: the dimension's tables and columns).
-- A change makes exactly one new version whose VALID_FROM is the old version's VALID_TO; the latest
-- change of a key in a batch wins; an unchanged re-delivery makes no version; a stale change (older
-- than the current version) is ignored; a deleted source row closes its current version.

-- name: clear_work
DELETE FROM {{ work }};

-- name: capture
INSERT INTO {{ work }} ({{ columns }}, CHANGE_ACTION, CHANGE_IS_UPDATE, CAPTURED_AT)
SELECT {{ columns }}, METADATA$ACTION, METADATA$ISUPDATE, CURRENT_TIMESTAMP()
FROM {{ stream }};

-- name: reject
INSERT INTO {{ rejects }} (SOURCE_TABLE, SOURCE_KEY, REASON, RECORD, REJECTED_AT)
SELECT '{{ source_name }}', TO_VARCHAR(w.{{ key }}), {{ reason }}, {{ record }}, w.CAPTURED_AT
FROM {{ work }} w
WHERE w.CHANGE_ACTION = 'INSERT' AND {{ reason }} IS NOT NULL;

-- name: close_changed
UPDATE {{ dim }} d
SET VALID_TO = l.EFFECTIVE_AT, IS_CURRENT = FALSE
FROM (
  SELECT w.*, COALESCE(w.UPDATED_AT, w.CAPTURED_AT) AS EFFECTIVE_AT
  FROM {{ work }} w
  WHERE w.CHANGE_ACTION = 'INSERT' AND {{ reason }} IS NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY w.{{ key }} ORDER BY w.UPDATED_AT DESC NULLS LAST) = 1
) l
WHERE d.{{ key }} = l.{{ key }}
  AND d.IS_CURRENT
  AND l.EFFECTIVE_AT >= d.VALID_FROM
  AND NOT ({{ unchanged }});

-- name: insert_versions
INSERT INTO {{ dim }} ({{ surrogate }}, {{ key }}, {{ tracked }}, VALID_FROM, VALID_TO, IS_CURRENT)
SELECT COALESCE(m.MAX_SK, 0) + ROW_NUMBER() OVER (ORDER BY l.{{ key }}),
       l.{{ key }}, {{ latest_tracked }},
       IFF(p.LAST_TO IS NULL, '1900-01-01 00:00:00'::TIMESTAMP_NTZ, GREATEST(p.LAST_TO, l.EFFECTIVE_AT)),
       '9999-12-31 00:00:00'::TIMESTAMP_NTZ,
       TRUE
FROM (
  SELECT w.*, COALESCE(w.UPDATED_AT, w.CAPTURED_AT) AS EFFECTIVE_AT
  FROM {{ work }} w
  WHERE w.CHANGE_ACTION = 'INSERT' AND {{ reason }} IS NULL
  QUALIFY ROW_NUMBER() OVER (PARTITION BY w.{{ key }} ORDER BY w.UPDATED_AT DESC NULLS LAST) = 1
) l
CROSS JOIN (SELECT MAX({{ surrogate }}) AS MAX_SK FROM {{ dim }}) m
LEFT JOIN (SELECT {{ key }}, MAX(VALID_TO) AS LAST_TO FROM {{ dim }} GROUP BY {{ key }}) p ON p.{{ key }} = l.{{ key }}
WHERE NOT EXISTS (SELECT 1 FROM {{ dim }} d WHERE d.{{ key }} = l.{{ key }} AND d.IS_CURRENT);

-- name: close_deleted
UPDATE {{ dim }} d
SET VALID_TO = GREATEST(x.DELETED_AT, d.VALID_FROM), IS_CURRENT = FALSE
FROM (
  SELECT w.{{ key }}, MAX(w.CAPTURED_AT) AS DELETED_AT
  FROM {{ work }} w
  WHERE w.CHANGE_ACTION = 'DELETE' AND NOT w.CHANGE_IS_UPDATE
    AND NOT EXISTS (SELECT 1 FROM {{ work }} i WHERE i.CHANGE_ACTION = 'INSERT' AND i.{{ key }} = w.{{ key }})
  GROUP BY w.{{ key }}
) x
WHERE d.{{ key }} = x.{{ key }} AND d.IS_CURRENT;
