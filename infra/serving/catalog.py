"""Names of the serving capability's schema-level Snowflake objects and the Postgres port; the
account-level names (instance, rules, policy, integration) come from the stack's Naming."""

from __future__ import annotations

from infra.naming import Catalog
from infra.network import NETWORK_RULE_SCHEMA

PG_PORT = 5432
# The network rules and secrets sit in BRONZE, beside the other raw-side integrations.
NETWORK_SCHEMA = NETWORK_RULE_SCHEMA
CATALOG = Catalog(
    {
        "admin_secret": (NETWORK_SCHEMA, "PG_ADMIN_PASSWORD"),
        "app_secret": (NETWORK_SCHEMA, "PG_APP_PASSWORD"),
        "ca_secret": (NETWORK_SCHEMA, "PG_ROOT_CA"),
        # the loader's password, for the scheduled refresh's job (the loads outside Snowflake read it from
        # AWS Secrets Manager)
        "loader_secret": (NETWORK_SCHEMA, "PG_LOADER_PASSWORD"),
        # the scheduled refresh of the serving stores (train when due, sync to Postgres, export to
        # DynamoDB); the operations alerts judge the stores' freshness by its last successful run
        "refresh_task": ("STREAMS_TASKS", "REFRESH_SERVING"),
        # the scheduled DynamoDB export: the assumed role's token, the procedure and the refresh's child task
        "export_secret": (NETWORK_SCHEMA, "DYNAMODB_EXPORT_TOKEN"),
        "export_procedure": ("STREAMS_TASKS", "EXPORT_DYNAMODB"),
        "export_task": ("STREAMS_TASKS", "EXPORT_DYNAMODB"),
    }
)
# the scheduled refresh's image in the API's repository, and its spec
REFRESH_IMAGE = "refresh"
REFRESH_DOCKERFILE = "services/refresh/Dockerfile"
# the export procedure's handler, imported as-is by scripts/serving/dynamodb.py
EXPORT_HANDLER = "serving/export_dynamodb.py"
REFRESH_CONTEXT = "."  # the project directory: the job runs the repository's own scripts
