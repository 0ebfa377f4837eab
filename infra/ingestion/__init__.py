"""Customer ingestion: S3 landing bucket → Snowpipe → Bronze → stream → task → Silver → Gold.

`catalog` (names, columns, CSV format, SQL) is shared with the local path in scripts/ingestion;
`landing` and `component` are the Pulumi components.
"""
