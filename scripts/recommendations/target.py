"""Where the post-deploy loads read and write (a deployed stack or the local stand-ins), and the
step wrapper that turns any failure into one error naming the step and the cause."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.config.reader import stack_config
from infra.recommendations import catalog
from infra.recommendations.config import ScaleConfig

console = Console()
ROOT = Path(__file__).resolve().parents[2]


class LoadError(RuntimeError):
    """A load step failed; the message names the step and the cause."""


@dataclass
class Target:
    """Where the loads read and write: a deployed stack, or the local stand-ins."""

    stack: str
    local: bool
    database: str
    connect_snowflake: Callable[[], Any]
    pg_dsn: str
    pg_schema: str
    dynamodb_table: str
    dynamodb_client: Callable[[], Any]
    dynamodb_resource: Callable[[], Any]
    scale: ScaleConfig
    artifacts: Path
    workers: int = 2
    counts: dict[str, int] = field(default_factory=dict)
    first_fill: bool = False  # --first-fill: synthetic data may fill an EMPTY prod stack, once

    def q(self, obj: str) -> str:
        return catalog.q(self.database, obj)

    @property
    def as_of_literal(self) -> str:
        return f"CAST('{self.scale.as_of.isoformat()} 00:00:00' AS TIMESTAMP)"


def local_target(
    stack: str = "dev",
    scale: ScaleConfig | None = None,
    database: str | None = None,
    pg_schema: str | None = None,
    dynamodb_table: str | None = None,
) -> Target:
    """The stand-ins (fakesnow, moto, local PostgreSQL) with the stack's names (or the given ones)."""
    import boto3

    from scripts import standins
    from scripts.connections import connect_local

    cfg = stack_config(stack)
    naming = cfg.naming
    naming_db = database or naming.database
    ep = standins.endpoints()
    scale = scale or cfg.recommendations.scale
    aws = {
        "endpoint_url": ep.moto_url,
        "region_name": cfg.aws_region,
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    return Target(
        stack=stack,
        local=True,
        database=naming_db,
        connect_snowflake=lambda: connect_local(
            ep.snowflake_host, ep.snowflake_port, database=naming_db, schema="BRONZE"
        ),
        pg_dsn=ep.postgres_dsn,
        pg_schema=pg_schema or cfg.postgres.serving_schema,
        dynamodb_table=dynamodb_table or naming.aws("product-recommendations"),
        dynamodb_client=lambda: boto3.client("dynamodb", **aws),
        dynamodb_resource=lambda: boto3.resource("dynamodb", **aws),
        scale=scale,
        artifacts=Path(os.environ.get("RDP_LOCAL_DIR", ROOT / ".local")) / "artifacts" / stack,
    )


def stack_target(stack: str, scale: ScaleConfig | None = None) -> Target:
    """A deployed stack: names and endpoints from `pulumi stack output`, credentials from secrets."""
    import boto3

    from scripts.connections import StackOutputError, stack_outputs, transformer_session

    cfg = stack_config(stack)
    try:
        out = stack_outputs(stack, ("database", "postgresLoaderSecret", "dynamodbTable"))
    except StackOutputError as e:
        raise LoadError(str(e)) from None
    return Target(
        stack=stack,
        local=False,
        database=out["database"],
        connect_snowflake=lambda: transformer_session(cfg, out),
        pg_dsn=secret_dsn(boto3.client("secretsmanager", region_name=cfg.aws_region), out["postgresLoaderSecret"]),
        pg_schema=cfg.postgres.serving_schema,
        dynamodb_table=out["dynamodbTable"],
        dynamodb_client=lambda: boto3.client("dynamodb", region_name=cfg.aws_region),
        dynamodb_resource=lambda: boto3.resource("dynamodb", region_name=cfg.aws_region),
        scale=scale or cfg.recommendations.scale,
        artifacts=ROOT / "artifacts" / stack,
    )


def secret_dsn(client: Any, secret_id: str) -> str:
    """The loader's libpq DSN from its Secrets Manager secret (the stack outputs only its ARN), TLS
    verified: the root CA goes to a file only this user can read, as libpq wants a path."""
    import json
    import tempfile

    import botocore.exceptions
    import psycopg

    try:
        value = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        ca = value["sslrootcert_pem"]
        conninfo = {k: value[k] for k in ("host", "port", "dbname", "username", "password", "sslmode")}
    except botocore.exceptions.ClientError as e:
        raise LoadError(f"cannot read the Postgres secret {secret_id}: {e.response['Error']['Code']}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise LoadError(f"the Postgres secret {secret_id} is not a connection secret (missing {e})") from None
    fd, path = tempfile.mkstemp(prefix="rdp-pg-ca-", suffix=".pem")  # mode 0600
    with os.fdopen(fd, "w") as fh:
        fh.write(ca)
    conninfo["user"] = conninfo.pop("username")
    return psycopg.conninfo.make_conninfo(**conninfo, sslrootcert=path)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@contextmanager
def step(name: str) -> Iterator[None]:
    start = time.perf_counter()
    console.rule(f"[bold]{name}")
    try:
        yield
    except Exception as e:
        import botocore.exceptions
        import psycopg
        import snowflake.connector.errors

        from scripts.serving.dynamodb import ExportError
        from scripts.serving.postgres import ServingError

        if isinstance(e, (LoadError, ServingError, ExportError, ValueError)):
            raise LoadError(f"step {name!r} failed: {e}") from e
        drivers = (
            snowflake.connector.errors.Error,
            psycopg.Error,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        )
        if isinstance(e, drivers):
            raise LoadError(f"step {name!r} failed ({type(e).__name__}): {e}") from e
        raise
    console.print(f"  {name} done in {time.perf_counter() - start:.1f} s")


def print_counts(counts: dict[str, int], title: str) -> None:
    table = Table("table", "rows", title=title)
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    console.print(table)


def count(cur: Any, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {table}")
    return int(cur.fetchone()[0])
