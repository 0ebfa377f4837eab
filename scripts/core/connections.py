"""Snowflake connections for the scripts: the fakesnow endpoint locally, key-pair auth for real."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import snowflake.connector

from infra.config.stack import StackConfig
from infra.foundation.catalog import SCHEMAS
from infra.naming import quote
from scripts.core.errors import LoadError, StackOutputError


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


def connect_standin(database: str | None = None, schema: str | None = "BRONZE"):
    """A session on the running fakesnow stand-in (its endpoint from the stand-ins' state)."""
    from scripts import standins

    ep = standins.endpoints()
    return connect_local(ep.snowflake_host, ep.snowflake_port, database, schema)


def key_variable(duty: str) -> str:
    """`SNOWFLAKE_LOADER_KEY_PATH`: where the private key of the `duty` service user is found."""
    return f"SNOWFLAKE_{duty.upper()}_KEY_PATH"


def connect_stack(account: str, user: str, role: str, warehouse: str, database: str, duty: str):
    """Key-pair session of one duty's service user on a deployed stack; each duty has its own key."""
    variable = key_variable(duty)
    key_path = os.environ.get(variable)
    if not key_path:
        raise LoadError(f"{variable} is not set: point it at the private key of the {duty} service user ({user})")
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


def stack_outputs(stack: str, required: Iterable[str] = ("database",)) -> dict[str, Any]:
    """`pulumi stack output --json --show-secrets` of a deployed stack, with the keys a step needs."""
    try:
        out = json.loads(
            subprocess.run(
                ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    except (OSError, subprocess.CalledProcessError) as e:
        raise StackOutputError(
            f"cannot read the outputs of stack {stack!r} (is it deployed and selected?): {e}"
        ) from None
    missing = [k for k in required if k not in out]
    if missing:
        raise StackOutputError(f"stack {stack!r} has no output(s) {missing}; run `pulumi up` first")
    return out


def duty_session(cfg: StackConfig, out: dict[str, Any], duty: str, role: str, warehouse: str):
    """One duty's service user with its functional role and warehouse, from a deployed stack's outputs."""
    return connect_stack(
        f"{cfg.snowflake.organization}-{cfg.snowflake.account}",
        out["serviceUsers"][duty],
        out["functionalRoles"][role],
        out["warehouses"][warehouse],
        out["database"],
        duty,
    )


def transformer_session(cfg: StackConfig, out: dict[str, Any]):
    """The transformer service user as TRANSFORMER on the transform warehouse of a deployed stack."""
    return duty_session(cfg, out, "transformer", "TRANSFORMER", "transform")


def loader_session(cfg: StackConfig, out: dict[str, Any]):
    """The loader service user as LOADER on the load warehouse: the BRONZE writes (key in
    SNOWFLAKE_LOADER_KEY_PATH)."""
    return duty_session(cfg, out, "loader", "LOADER", "load")


def count(cur: Any, table: str) -> int:
    """Rows of a table (or of a subquery given with its alias)."""
    cur.execute(f"SELECT COUNT(*) FROM {table}")
    return int(cur.fetchone()[0])


def fetch_dicts(cur: Any) -> list[dict]:
    """The executed query's rows as dicts keyed by column name."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@contextmanager
def transaction(cur: Any) -> Iterator[Any]:
    """One explicit transaction on an autocommit session: readers keep seeing the old rows until COMMIT,
    and a failure inside rolls everything back (never a table left emptied)."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
