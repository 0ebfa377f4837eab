"""The Snowflake foundation: the database, its layer schemas, warehouses and cost guard-rails
(`component`), the functional roles and service users (`access`), CI's identities (`identity`), and the
error topic every pipeline reports to (`alerts`). `catalog` and `config` hold no Pulumi code."""
