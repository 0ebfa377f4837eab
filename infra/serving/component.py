"""The serving stores of the recommendations, composed: the Snowflake Postgres instance (`postgres`), the
serving schema and roles on it (`access`), the loaders' connection secrets (`secrets`) and the DynamoDB
table (`dynamodb`). Each is a component of its own at the stack's top level, as released."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.foundation.config import SnowflakeConnection
from infra.naming import Naming
from infra.providers import Providers
from infra.serving.access import PostgresServingAccess, PostgresServingAccessArgs
from infra.serving.config import DynamoDbConfig, PostgresConfig
from infra.serving.dynamodb import RecommendationsTable, RecommendationsTableArgs
from infra.serving.postgres import SnowflakePostgres, SnowflakePostgresArgs
from infra.serving.secrets import ServingSecrets, ServingSecretsArgs


@dataclass(kw_only=True)
class ServingStoresArgs:
    naming: Naming
    providers: Providers
    protect: bool
    postgres: PostgresConfig
    dynamodb: DynamoDbConfig
    ingress_cidrs: list[str]
    # the deploy user's connection: the Postgres admin credential is regenerated with it during `up`
    connection: SnowflakeConnection
    private_key: pulumi.Input[str] | None
    database: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str] | None = None  # the website reader role's (infra/iam.py)


@dataclass(frozen=True, kw_only=True)
class ServingStores:
    postgres: SnowflakePostgres
    access: PostgresServingAccess
    secrets: ServingSecrets
    dynamodb: RecommendationsTable


def serving_stores(args: ServingStoresArgs, opts: pulumi.ResourceOptions | None = None) -> ServingStores:
    """The four serving components; `opts` (what the instance waits for) applies to the instance."""
    kept = {"naming": args.naming, "providers": args.providers, "protect": args.protect}
    postgres = SnowflakePostgres(
        "postgres",
        SnowflakePostgresArgs(
            **kept,
            config=args.postgres,
            ingress_cidrs=args.ingress_cidrs,
            connection=args.connection,
            private_key=args.private_key,
            database=args.database,
        ),
        opts=opts,
    )
    access = PostgresServingAccess(
        "serving",
        PostgresServingAccessArgs(
            naming=args.naming,
            config=args.postgres,
            protect=args.protect,
            host=postgres.host,
            admin_user=postgres.credential.username,
            admin_password=postgres.admin_password,
            app_password=postgres.app_password,
            ca_certificate=postgres.ca_certificate,
        ),
    )
    secrets = ServingSecrets(
        "serving-secrets",
        ServingSecretsArgs(
            **kept,
            config=args.postgres,
            host=postgres.host,
            passwords=access.passwords,
            ca_certificate=postgres.ca_certificate,
        ),
    )
    reader = {"permissions_boundary": args.permissions_boundary}
    dynamodb = RecommendationsTable("dynamodb", RecommendationsTableArgs(**kept, **reader, config=args.dynamodb))
    return ServingStores(postgres=postgres, access=access, secrets=secrets, dynamodb=dynamodb)
