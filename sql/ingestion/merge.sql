-- Upsert a feed's transformed batch into its Silver table (every feed's MERGE, filled with its columns
-- from infra/ingestion/catalog.py). New keys are inserted; a key is updated only when the incoming
-- version is not older than the stored one and something actually changed, so a re-run of the same
-- batch updates nothing and an old file arriving late never rolls a key back.
MERGE INTO {{ target }} t
USING {{ xfm }} s
  ON {{ on }}
WHEN MATCHED
  AND COALESCE(s.{{ version }}, '1900-01-01 00:00:00'::TIMESTAMP_NTZ)
      >= COALESCE(t.{{ version }}, '1900-01-01 00:00:00'::TIMESTAMP_NTZ)
  AND ({{ changed }})
THEN UPDATE SET
{{ update }}
WHEN NOT MATCHED THEN INSERT (
{{ columns }}
) VALUES (
{{ values }}
)
