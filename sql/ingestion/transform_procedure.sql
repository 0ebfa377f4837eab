-- {{ procedure }}: consume the stream into the work table and MERGE into Silver in one
-- transaction, so the stream offset only advances when the upsert commits.
DECLARE
  staged INTEGER DEFAULT 0;
  merged INTEGER DEFAULT 0;
BEGIN
  BEGIN TRANSACTION;
  DELETE FROM {{ xfm }};
  INSERT INTO {{ xfm }} (
{{ xfm_columns }}
  )
  {{ xfm_select }};
  staged := SQLROWCOUNT;
  {{ merge }};
  merged := SQLROWCOUNT;
  COMMIT;
  RETURN 'staged ' || staged || ', merged ' || merged;
EXCEPTION
  WHEN OTHER THEN
    ROLLBACK;
    RAISE;
END
