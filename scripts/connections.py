"""Snowflake connections for the scripts: the fakesnow endpoint locally, key-pair auth for real."""

from __future__ import annotations

import os

import snowflake.connector

from infra.foundation import SCHEMAS
from infra.naming import quote


def connect_local(host: str, port: int, database: str | None = None, schema: str | None = None):
    """A real snowflake-connector session against the fakesnow HTTP endpoint."""
    return snowflake.connector.connect(
        user="local",
        password="local",
        account="fakesnow",
        host=host,
        port=port,
        protocol="http",
        database=database,
        schema=schema,
        autocommit=True,
    )


def connect_stack(account: str, user: str, role: str, warehouse: str, database: str):
    """Key-pair session for a deployed stack; the private key comes from SNOWFLAKE_PRIVATE_KEY_PATH."""
    key_path = os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH")
    if not key_path:
        raise RuntimeError("SNOWFLAKE_PRIVATE_KEY_PATH is not set: point it at the service user's private key")
    return snowflake.connector.connect(
        account=account,
        user=user,
        role=role,
        warehouse=warehouse,
        database=database,
        authenticator="SNOWFLAKE_JWT",
        private_key_file=key_path,
    )


def ensure_foundation(cur, database: str) -> list[str]:
    """Locally, the database and layer schemas `pulumi up` creates (fakesnow has no Pulumi)."""
    cur.execute(f"CREATE DATABASE IF NOT EXISTS {quote(database)}")
    for schema in SCHEMAS:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(database, schema)}")
    return [f"{database}.{schema}" for schema in SCHEMAS]
