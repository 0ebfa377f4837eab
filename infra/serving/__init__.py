"""Serving stores of the recommendations: the Snowflake Postgres instance (`postgres`, its admin
`credential`), the serving schema and roles on it (`access`), the DynamoDB table (`dynamodb`), their
scheduled refresh (`refresh`), and the names and serving-table definitions shared with scripts/serving
(`catalog`)."""
