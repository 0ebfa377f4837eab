"""Where the post-deploy loads read and write: a deployed stack (names from its outputs, credentials
from its secrets), the local stand-ins (fakesnow, moto, PostgreSQL) with the stack's names, or a job
service of the stack (`--in-service`: the scheduled refresh, with SPCS's token and the spec's env)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from infra.config.reader import stack_config
from scripts.core import connections
from scripts.core.errors import LoadError

ROOT = Path(__file__).resolve().parents[2]
LOCAL_AWS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
# what the serving stores need of a deployed stack
SERVING_OUTPUTS = ("database", "postgresLoaderSecret", "dynamodbTable")
T = TypeVar("T", bound="Target")


@dataclass
class Target:
    """One stack's warehouse, serving stores and artifacts, deployed or on the stand-ins."""

    stack: str
    local: bool
    database: str
    connect_snowflake: Callable[[], Any]
    pg_schema: str
    dynamodb_table: str
    artifacts: Path
    aws: dict[str, str]  # boto3 arguments: the region, and on the stand-in moto's endpoint and keys
    postgres: Callable[[], str]  # the loader's DSN, read when first needed (a secret on a stack)
    counts: dict[str, int] = field(default_factory=dict)
    first_fill: bool = False  # --first-fill: synthetic data may fill an EMPTY prod stack, once
    api_url: str = ""  # the API's base URL: the stack's apiEndpoint, or the API `make local` left running

    @cached_property
    def pg_dsn(self) -> str:
        return self.postgres()

    def dynamodb_client(self) -> Any:
        import boto3

        return boto3.client("dynamodb", **self.aws)

    def dynamodb_resource(self) -> Any:
        import boto3

        return boto3.resource("dynamodb", **self.aws)


def local_target(
    stack: str = "dev",
    database: str | None = None,
    pg_schema: str | None = None,
    dynamodb_table: str | None = None,
) -> Target:
    """The stand-ins with the stack's names (or the given ones, so tests and benches keep apart)."""
    from scripts import standins

    cfg = stack_config(stack)
    db = database or cfg.naming.database
    ep = standins.endpoints()
    return Target(
        stack=stack,
        local=True,
        database=db,
        connect_snowflake=lambda: connections.connect_local(ep.snowflake_host, ep.snowflake_port, db, "BRONZE"),
        pg_schema=pg_schema or cfg.postgres.serving_schema,
        dynamodb_table=dynamodb_table or cfg.naming.aws("product-recommendations"),
        artifacts=Path(os.environ.get("RDP_LOCAL_DIR", ROOT / ".local")) / "artifacts" / stack,
        aws={"endpoint_url": ep.moto_url, "region_name": cfg.aws_region, **LOCAL_AWS},
        postgres=lambda: ep.postgres_dsn,
        api_url=standins.app_url("orchestrator"),  # the API `make local` registers
    )


def stack_target(stack: str, required: Iterable[str] = SERVING_OUTPUTS) -> Target:
    """A deployed stack: names from `pulumi stack output` (the `required` ones checked first), the
    transformer's Snowflake session, the loader's Postgres secret."""
    cfg = stack_config(stack)
    out = connections.stack_outputs(stack, tuple(required))

    def postgres() -> str:
        import boto3

        if "postgresLoaderSecret" not in out:
            raise LoadError(f"stack {stack!r} has no output postgresLoaderSecret; run `pulumi up` first")
        return secret_dsn(boto3.client("secretsmanager", region_name=cfg.aws_region), out["postgresLoaderSecret"])

    return Target(
        stack=stack,
        local=False,
        database=out["database"],
        connect_snowflake=lambda: connections.transformer_session(cfg, out),
        pg_schema=cfg.postgres.serving_schema,
        dynamodb_table=out.get("dynamodbTable", ""),
        artifacts=ROOT / "artifacts" / stack,
        aws={"region_name": cfg.aws_region},
        postgres=postgres,
        api_url=_https(str(out.get("apiEndpoint") or "")),
    )


# SPCS public endpoints take a Snowflake OAuth token; the smoke test and the monitor read it from here
API_TOKEN_VARIABLE = "RDP_API_TOKEN"


def api_headers(token: str | None) -> dict[str, str]:
    """The header a public SPCS endpoint reads the token from (none without a token: the local API)."""
    return {"Authorization": f'Snowflake Token="{token}"'} if token else {}


def _https(endpoint: str) -> str:
    """SPCS reports a public endpoint as a bare host name."""
    return endpoint if not endpoint or "://" in endpoint else f"https://{endpoint}"


# What a job service's container is given: Snowflake's own variables and OAuth token (SPCS sets them),
# and the spec's (services/refresh/spec.yaml.tmpl): the warehouse, the Postgres connection, the secret.
SPCS_TOKEN = Path("/snowflake/session/token")
SERVICE_ENV = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_HOST", "SNOWFLAKE_DATABASE", "SNOWFLAKE_WAREHOUSE", "PG_HOST")
SERVICE_ENV += ("PG_PORT", "PG_DB", "PG_USER", "PG_PASSWORD", "PGSSLROOTCERT")


def service_target(stack: str, env: dict[str, str] | None = None, token: Path = SPCS_TOKEN) -> Target:
    """Inside a job service of the stack (the scheduled refresh): Snowflake as the job's owner role through
    the OAuth token SPCS mounts, Postgres as the loader with the password from its Snowflake secret. A job
    has no AWS identity, so this target has no DynamoDB table (README: Scheduled refresh)."""
    env = dict(os.environ if env is None else env)
    missing = [k for k in SERVICE_ENV if not env.get(k)]
    if missing:
        raise LoadError(f"--in-service: the job's spec sets no {', '.join(missing)} (is this a job service?)")
    cfg = stack_config(stack)

    def connect() -> Any:
        import snowflake.connector

        if not token.exists():
            raise LoadError(f"--in-service: no Snowflake token at {token} (SPCS mounts it in a job's containers)")
        return snowflake.connector.connect(
            host=env["SNOWFLAKE_HOST"],
            account=env["SNOWFLAKE_ACCOUNT"],
            authenticator="oauth",
            token=token.read_text().strip(),
            database=env["SNOWFLAKE_DATABASE"],
            warehouse=env["SNOWFLAKE_WAREHOUSE"],
        )

    def postgres() -> str:
        import psycopg

        keys = {"host": "PG_HOST", "port": "PG_PORT", "dbname": "PG_DB", "user": "PG_USER", "password": "PG_PASSWORD"}
        conninfo = {k: env[v] for k, v in keys.items()}
        return psycopg.conninfo.make_conninfo(**conninfo, sslmode="verify-full", sslrootcert=env["PGSSLROOTCERT"])

    return Target(
        stack=stack,
        local=False,
        database=env["SNOWFLAKE_DATABASE"],
        connect_snowflake=connect,
        pg_schema=cfg.postgres.serving_schema,
        dynamodb_table="",
        artifacts=Path(env.get("RDP_ARTIFACTS", "/tmp/rdp-artifacts")) / stack,
        aws={},
        postgres=postgres,
    )


def extended(base: Target, kind: type[T], **extra: Any) -> T:
    """`base` as a capability's own target class (a Target subclass with `extra` fields)."""
    return kind(**{f.name: getattr(base, f.name) for f in fields(base)}, **extra)


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
