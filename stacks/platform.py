"""What one environment of the platform is made of. Stacks differ only by their config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.analytics.component import CommerceAnalytics, CommerceAnalyticsArgs
from infra.api.component import ApiBackends, RecommendationApi, RecommendationApiArgs, RegistryLogin
from infra.cdc.component import OrderChanges, OrderChangesArgs
from infra.config.reader import load_stack_config
from infra.config.stack import StackConfig
from infra.dashboard.component import AnalyticsDashboard, AnalyticsDashboardArgs
from infra.foundation.access import AccessControl, AccessControlArgs
from infra.foundation.alerts import ErrorAlerts, ErrorAlertsArgs
from infra.foundation.component import SnowflakeFoundation, SnowflakeFoundationArgs
from infra.foundation.identity import CiIdentities, CiIdentitiesArgs
from infra.iam import boundary_arn, boundary_name
from infra.ingestion.component import CustomerIngestion, CustomerIngestionArgs
from infra.ingestion.landing import LandingBucket, LandingBucketArgs
from infra.naming import review_naming
from infra.providers import (
    AwsAccount,
    AwsAccountArgs,
    PipelineArgs,
    Providers,
    SnowflakeProviders,
    SnowflakeProvidersArgs,
    login_for,
)
from infra.recommendations.component import RecommendationsData, RecommendationsDataArgs
from infra.serving.access import PostgresServingAccess, PostgresServingAccessArgs
from infra.serving.dynamodb import RecommendationsTable, RecommendationsTableArgs
from infra.serving.postgres import SnowflakePostgres, SnowflakePostgresArgs
from infra.serving.secrets import ServingSecrets, ServingSecretsArgs


@dataclass
class Platform:
    """The components of one stack, for the outputs and for tests that look at them."""

    foundation: SnowflakeFoundation
    access: AccessControl
    ci: CiIdentities | None
    landing: LandingBucket
    alerts: ErrorAlerts
    ingestion: CustomerIngestion
    analytics: CommerceAnalytics
    cdc: OrderChanges
    dashboard: AnalyticsDashboard
    recommendations: RecommendationsData
    postgres: SnowflakePostgres
    serving: PostgresServingAccess
    serving_secrets: ServingSecrets
    dynamodb: RecommendationsTable
    api: RecommendationApi


def _providers(cfg: StackConfig, private_key: pulumi.Output[str] | None) -> Providers:
    sf = cfg.snowflake
    login = login_for(cfg.naming, cfg.prefix, cfg.environment, sf.deploy_user)
    snowflake = SnowflakeProviders(
        "snowflake", SnowflakeProvidersArgs(sf.organization, sf.account, login.user, private_key, login.roles)
    )
    aws = AwsAccount("aws", AwsAccountArgs(region=cfg.aws_region, stack=cfg.stack))
    return Providers(snowflake.sysadmin, snowflake.securityadmin, snowflake.accountadmin, aws.provider, aws.account_id,
                     login)  # fmt: skip


def _ci(
    cfg: StackConfig, common: dict, database: pulumi.Output[str], warehouses: dict[str, pulumi.Output[str]]
) -> tuple[CiIdentities | None, pulumi.Output[str]]:
    """Who CI runs as (a read-only preview identity and an AWS deploy role per environment; a review
    stack is CI's own creation and has none), and the permissions boundary of the stack's IAM roles:
    its own, or in a review stack the one dev hosts."""
    if cfg.environment == "review":
        name = boundary_name(review_naming(cfg.prefix))
        return None, common["providers"].aws_account_id.apply(lambda a: boundary_arn(a, name))
    ci = CiIdentities(
        "ci", CiIdentitiesArgs(**common, config=cfg.ci, prefix=cfg.prefix, database=database, warehouses=warehouses)
    )
    return ci, ci.boundary.arn


def build(cfg: StackConfig) -> Platform:
    """Compose the platform's capabilities for one stack."""
    secrets = pulumi.Config()
    private_key = secrets.get_secret("snowflakePrivateKey")
    providers = _providers(cfg, private_key)
    common = {"naming": cfg.naming, "providers": providers}
    kept = {**common, "protect": cfg.protect}  # components that hold state protect it where the stack does

    foundation = SnowflakeFoundation(
        "foundation",
        SnowflakeFoundationArgs(**kept, warehouses=cfg.warehouses, monitor=cfg.resource_monitor,
                                data_retention_days=cfg.data_retention_days,
                                account_admin=cfg.environment != "review"),
    )  # fmt: skip
    database = foundation.database.name
    warehouses = {k: v.name for k, v in foundation.warehouses.items()}
    after_foundation = pulumi.ResourceOptions(depends_on=[foundation])
    access = AccessControl(
        "access",
        AccessControlArgs(**common, database=database, schemas={k: v.name for k, v in foundation.schemas.items()},
                          warehouses=warehouses, service_users=cfg.service_users, allowed_cidrs=cfg.allowed_cidrs),
    )  # fmt: skip
    roles = {k: v.name for k, v in access.functional_roles.items()}
    ci, boundary = _ci(cfg, common, database, warehouses)

    # customer ingestion: landing bucket → Snowpipe → Bronze → task → Silver → Gold, errors to SNS
    landing = LandingBucket(
        "landing",
        LandingBucketArgs(**kept, config=cfg.ingestion, versioning=cfg.environment == "prod",
                          force_destroy=cfg.force_destroy_bucket),
    )  # fmt: skip
    boundary = (
        ci.boundary.arn
        if ci
        else providers.aws_account_id.apply(lambda a: boundary_arn(a, review_naming(cfg.prefix).aws("ci", "boundary")))
    )  # review stacks: dev hosts it
    alerts = ErrorAlerts("alerts", ErrorAlertsArgs(**common, emails=cfg.alert_emails, permissions_boundary=boundary))
    ingestion = CustomerIngestion(
        "ingestion",
        CustomerIngestionArgs(**kept, config=cfg.ingestion, database=database, bucket_name=landing.bucket.bucket,
                              bucket_arn=landing.bucket.arn, error_integration=alerts.error_integration,
                              transform_warehouse=warehouses["transform"], roles=roles,
                              permissions_boundary=boundary),
        opts=after_foundation,
    )  # fmt: skip

    # what the warehouse pipelines share: where they run, who operates them, where their errors go
    pipeline = vars(PipelineArgs(providers, cfg.protect, database, warehouses["transform"], alerts.error_integration,
                                 roles["TRANSFORMER"]))  # fmt: skip

    # e-commerce analytics: sources → streams → SCD2 star schema on a task graph; dynamic tables
    analytics = CommerceAnalytics(
        "analytics", CommerceAnalyticsArgs(**pipeline, config=cfg.analytics), after_foundation
    )
    # order change data capture: generator → change log → incremental dynamic tables, refresh task
    cdc = OrderChanges(
        "cdc",
        OrderChangesArgs(**pipeline, naming=cfg.naming, config=cfg.cdc, load_warehouse=warehouses["load"],
                         analyst_role=roles["ANALYST"], service_user=access.service_users["loader"].name),
        after_foundation,
    )  # fmt: skip
    # the business's dashboard over both: Streamlit in Snowflake, opened with the ANALYST role
    dashboard = AnalyticsDashboard(
        "dashboard",
        AnalyticsDashboardArgs(providers, cfg.dashboard, cfg.snowflake, database, warehouses[cfg.dashboard.warehouse],
                               roles["ANALYST"], private_key),
        pulumi.ResourceOptions(depends_on=[analytics, cdc]),
    )  # fmt: skip

    # recommendations data plane, its serving stores, and the real-time API
    recommendations = RecommendationsData(
        "recommendations", RecommendationsDataArgs(**pipeline, config=cfg.recommendations), after_foundation
    )
    postgres, serving, serving_secrets, dynamodb, api = _serving(
        cfg, kept, private_key, database, after_foundation, recommendations, access, warehouses
    )
    return Platform(foundation, access, ci, landing, alerts, ingestion, analytics, cdc, dashboard, recommendations,
                    postgres, serving, serving_secrets, dynamodb, api)  # fmt: skip


def _serving(
    cfg: StackConfig,
    kept: dict,
    private_key: pulumi.Output[str] | None,
    database: pulumi.Output[str],
    after_foundation: pulumi.ResourceOptions,
    recommendations: RecommendationsData,
    access: AccessControl,
    warehouses: dict[str, pulumi.Output[str]],
) -> tuple[SnowflakePostgres, PostgresServingAccess, ServingSecrets, RecommendationsTable, RecommendationApi]:
    """Where the recommendations are served from: Snowflake Postgres, DynamoDB, and the API in front."""
    secrets = pulumi.Config()
    registry = RegistryLogin(access.service_users["registry"].name, access.image_pusher.name,
                             secrets.get_secret("registryToken"))  # fmt: skip
    postgres = SnowflakePostgres(
        "postgres",
        SnowflakePostgresArgs(**kept, config=cfg.postgres, ingress_cidrs=cfg.allowed_cidrs, connection=cfg.snowflake,
                              private_key=private_key, database=database),
        opts=after_foundation,
    )  # fmt: skip
    serving = PostgresServingAccess(
        "serving",
        PostgresServingAccessArgs(naming=cfg.naming, config=cfg.postgres, protect=cfg.protect, host=postgres.host,
                                  admin_user=postgres.credential.username, admin_password=postgres.admin_password,
                                  app_password=postgres.app_password, ca_certificate=postgres.ca_certificate),
    )  # fmt: skip
    secrets_out = ServingSecrets(
        "serving-secrets",
        ServingSecretsArgs(
            **kept,
            config=cfg.postgres,
            host=postgres.host,
            passwords=serving.passwords,
            ca_certificate=postgres.ca_certificate,
        ),
    )
    dynamodb = RecommendationsTable("dynamodb", RecommendationsTableArgs(**kept, config=cfg.dynamodb))
    api = RecommendationApi(
        "api",
        RecommendationApiArgs(
            **kept, config=cfg.api, postgres=cfg.postgres,
            registry=registry, connection=cfg.snowflake, private_key=private_key, database=database,
            app_role=access.functional_roles["APP_SERVICE"].name,
            backends=ApiBackends(postgres.host, postgres.app_secret.fully_qualified_name,
                                 postgres.ca_secret.fully_qualified_name, postgres.integration.name,
                                 recommendations.model_stage.fully_qualified_name,
                                 warehouses["serve"]),
        ),
        opts=pulumi.ResourceOptions(depends_on=[serving]),
    )  # fmt: skip
    return postgres, serving, secrets_out, dynamodb, api


def outputs(cfg: StackConfig, p: Platform) -> dict[str, pulumi.Output]:
    """The stack outputs the post-deploy loads, the services and people read."""
    pg_roles = {k: pulumi.Output.from_input(cfg.naming.pg(k)) for k in ("app", "loader", "bi")}
    ci = {"ciRoles": pulumi.Output.all(**{k: v.arn for k, v in p.ci.roles.items()}),
          "ciPreviewUser": p.ci.preview_user.name} if p.ci else {}  # fmt: skip
    return ci | {
        "apiPool": p.api.pool.name,
        "apiImages": pulumi.Output.all(**{k: v.repo_digest for k, v in p.api.images.items()}),
        "apiService": p.api.services["orchestrator"].fully_qualified_name,
        "customer360": p.recommendations.customer_360.fully_qualified_name,
        "postgresHost": p.postgres.host,
        "postgresIntegration": p.postgres.integration.name,
        "postgresAdminSecret": p.postgres.admin_secret.fully_qualified_name,
        "postgresAppSecret": p.postgres.app_secret.fully_qualified_name,
        "postgresAppUser": pg_roles["app"],
        "postgresLoaderUser": pg_roles["loader"],
        "postgresLoaderSecret": p.serving_secrets.secrets["loader"].arn,
        "postgresBiUser": pg_roles["bi"],
        "postgresBiSecret": p.serving_secrets.secrets["bi"].arn,
        "servingSchema": p.serving.schema.name,
        "dynamodbTable": p.dynamodb.table.name,
        "landingBucket": p.landing.bucket.bucket,
        "landingPrefix": pulumi.Output.from_input(cfg.ingestion.landing_prefix),
        "errorTopicArn": p.alerts.topic.arn,
        "pipeNotificationChannel": p.ingestion.pipe.notification_channel,
        "analyticsRootTask": p.analytics.tasks["dimensions_task"].fully_qualified_name,
        "factSales": p.analytics.tables["facts"].fully_qualified_name,
        "cdcWriterRole": p.cdc.writer_role.name,
        "ordersAggregated": p.cdc.dynamic_tables["orders_aggregated"].fully_qualified_name,
        "dashboardApp": p.dashboard.app.fully_qualified_name,
        "dashboardStage": p.dashboard.stage.fully_qualified_name,
        "database": p.foundation.database.name,
        "warehouses": pulumi.Output.all(**{k: v.name for k, v in p.foundation.warehouses.items()}),
        "functionalRoles": pulumi.Output.all(**{k: v.name for k, v in p.access.functional_roles.items()}),
        "serviceUsers": pulumi.Output.all(**{k: v.name for k, v in p.access.service_users.items()}),
    }


def main() -> None:
    """Entry point used by __main__.py and by the offline plan."""
    cfg = load_stack_config()
    for key, value in outputs(cfg, build(cfg)).items():
        pulumi.export(key, value)
