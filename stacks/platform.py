"""What one environment of the platform is made of. Stacks differ only by their config.

`build()` composes the foundation, the warehouse pipelines and the serving stores; `outputs()` what it exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.account.catalog import attach_procedure, budget_tag
from infra.analytics.component import CommerceAnalytics, CommerceAnalyticsArgs
from infra.api.catalog import SERVED_TABLE_KEYS
from infra.api.component import ApiBackends, RecommendationApi, RecommendationApiArgs, RegistryLogin
from infra.cdc.component import OrderChanges, OrderChangesArgs
from infra.config.engine import load_stack_config
from infra.config.stack import StackConfig
from infra.dashboard.component import AnalyticsDashboard, AnalyticsDashboardArgs
from infra.foundation.access import AccessControl, AccessControlArgs
from infra.foundation.alerts import ErrorAlerts, ErrorAlertsArgs
from infra.foundation.component import SnowflakeFoundation, SnowflakeFoundationArgs
from infra.foundation.identity import CiIdentities, CiIdentitiesArgs
from infra.iam import boundary_arn, boundary_name
from infra.ingestion.component import Ingestion
from infra.ingestion.landing import LandingBucket
from infra.naming import review_naming
from infra.providers import (
    AwsAccountArgs,
    Providers,
    SnowflakeProvidersArgs,
    login_for,
    owner_role,
    stack_providers,
)
from infra.recommendations.component import RecommendationsData, RecommendationsDataArgs
from infra.serving.access import ROLE_LIMITS, PostgresServingAccess
from infra.serving.component import ServingStores, ServingStoresArgs, serving_stores
from infra.serving.dynamodb import RecommendationsTable, RecommendationsTableArgs
from infra.serving.postgres import SnowflakePostgres
from infra.serving.refresh import ServingRefresh
from stacks.dbt import dbt_layer
from stacks.ingestion import ingestion as build_ingestion
from stacks.operations import operations
from stacks.refresh import serving_refresh


@dataclass(frozen=True, kw_only=True)
class Base:
    """The foundation every capability stands on, and what the components are handed from it."""

    config: StackConfig
    providers: Providers
    private_key: pulumi.Output[str] | None
    foundation: SnowflakeFoundation
    access: AccessControl
    ci: CiIdentities | None
    alerts: ErrorAlerts
    boundary: pulumi.Output[str]  # the permissions boundary every IAM role of the stack carries

    @property
    def database(self) -> pulumi.Output[str]:
        return self.foundation.database.name

    @property
    def warehouses(self) -> dict[str, pulumi.Output[str]]:
        return {k: v.name for k, v in self.foundation.warehouses.items()}

    @property
    def roles(self) -> dict[str, pulumi.Output[str]]:
        return {k: v.name for k, v in self.access.functional_roles.items()}

    @property
    def after_foundation(self) -> pulumi.ResourceOptions:
        """After the database and its access roles: a schema's future grants must exist before the
        objects they are to cover (a view made before its grant is never readable by the roles)."""
        return pulumi.ResourceOptions(depends_on=[self.foundation, self.access])


@dataclass(frozen=True, kw_only=True)
class Pipelines:
    landing: LandingBucket
    ingestion: Ingestion
    analytics: CommerceAnalytics
    cdc: OrderChanges
    dashboard: AnalyticsDashboard
    recommendations: RecommendationsData


@dataclass(frozen=True, kw_only=True)
class Serving:
    """Where the recommendations are served from: Snowflake Postgres, DynamoDB, and the API in front.
    A review stack has the DynamoDB table only (see `_serving`)."""

    dynamodb: RecommendationsTable
    stores: ServingStores | None
    api: RecommendationApi | None
    refresh: ServingRefresh | None = None


@dataclass(frozen=True, kw_only=True)
class Platform:
    """The components of one stack, for the outputs and for tests that look at them."""

    base: Base
    pipelines: Pipelines
    serving: Serving


def _providers(cfg: StackConfig, private_key: pulumi.Output[str] | None) -> Providers:
    sf = cfg.snowflake
    login = login_for(cfg.naming, cfg.prefix, cfg.environment, sf.deploy_user)
    return stack_providers(
        SnowflakeProvidersArgs(
            organization=sf.organization,
            account=sf.account,
            user=login.user,
            private_key=private_key,
            roles=login.roles,
        ),
        AwsAccountArgs(region=cfg.aws_region, stack=cfg.stack),
        owner_role=owner_role(cfg.naming, cfg.prefix, cfg.environment),
        login=login,
    )


def _base(cfg: StackConfig) -> Base:
    """The database, warehouses, roles and users, CI's identities (a review stack is CI's own creation and has
    none: its roles carry the boundary the account stack declares for the review identity) and the error topic."""
    private_key = pulumi.Config().get_secret("snowflakePrivateKey")
    providers = _providers(cfg, private_key)
    common = {"naming": cfg.naming, "providers": providers}
    foundation = SnowflakeFoundation(
        "foundation",
        SnowflakeFoundationArgs(
            **common,
            warehouses=cfg.warehouses,
            data_retention_days=cfg.data_retention_days,
            protect=cfg.protect,
            monitor_procedure=None if cfg.environment == "review" else attach_procedure(cfg.prefix, cfg.naming),
            budget_tag=None if cfg.environment == "review" else budget_tag(cfg.prefix, cfg.naming),
        ),
    )
    warehouses = {k: v.name for k, v in foundation.warehouses.items()}
    schemas = {k: v.name for k, v in foundation.schemas.items()}
    access = AccessControl(
        "access",
        AccessControlArgs(
            **common,
            database=foundation.database.name,
            schemas=schemas,
            warehouses=warehouses,
            service_users=cfg.service_users,
            allowed_cidrs=cfg.allowed_cidrs,
        ),
    )
    if cfg.environment == "review":
        ci, name = None, boundary_name(review_naming(cfg.prefix))
        boundary = providers.aws_account_id.apply(lambda account: boundary_arn(account, name))
    else:
        ci = CiIdentities(
            "ci",
            CiIdentitiesArgs(
                **common, config=cfg.ci, database=foundation.database.name, warehouses=warehouses, schemas=schemas
            ),
        )
        boundary = ci.boundary.arn
    alerts = ErrorAlerts("alerts", ErrorAlertsArgs(**common, emails=cfg.alert_emails, permissions_boundary=boundary))
    return Base(
        config=cfg,
        providers=providers,
        private_key=private_key,
        foundation=foundation,
        access=access,
        ci=ci,
        alerts=alerts,
        boundary=boundary,
    )


def _pipelines(b: Base) -> Pipelines:
    """Ingestion (the customer, sales and inventory feeds), e-commerce analytics, order CDC, the dashboard
    over them, and the recommendations data plane: where they run, who operates them and where their
    errors go is shared."""
    cfg = b.config
    shared = {
        "naming": cfg.naming,
        "providers": b.providers,
        "protect": cfg.protect,
        "database": b.database,
        "transform_warehouse": b.warehouses["transform"],
        "error_integration": b.alerts.error_integration,
        "transformer_role": b.roles["TRANSFORMER"],
    }
    landing, ingestion = build_ingestion(b, shared)
    loading = {**shared, "loader_role": b.roles["LOADER"]}  # their post-deploy steps also write BRONZE
    analytics = CommerceAnalytics(
        "analytics", CommerceAnalyticsArgs(**loading, config=cfg.analytics), b.after_foundation
    )
    cdc = OrderChanges(
        "cdc",
        OrderChangesArgs(
            **shared,
            config=cfg.cdc,
            load_warehouse=b.warehouses["load"],
            analyst_role=b.roles["ANALYST"],
            service_user=b.access.service_users["loader"].name,
        ),
        b.after_foundation,
    )
    dashboard = AnalyticsDashboard(
        "dashboard",
        AnalyticsDashboardArgs(
            providers=b.providers,
            config=cfg.dashboard,
            connection=cfg.snowflake,
            database=b.database,
            query_warehouse=b.warehouses[cfg.dashboard.warehouse],
            analyst_role=b.roles["ANALYST"],
            private_key=b.private_key,
        ),
        pulumi.ResourceOptions(depends_on=[analytics, cdc]),
    )
    recommendations = RecommendationsData(
        "recommendations", RecommendationsDataArgs(**loading, config=cfg.recommendations), b.after_foundation
    )
    return Pipelines(
        landing=landing,
        ingestion=ingestion,
        analytics=analytics,
        cdc=cdc,
        dashboard=dashboard,
        recommendations=recommendations,
    )


def _serving(b: Base, recommendations: RecommendationsData) -> Serving:
    """Snowflake Postgres with its serving schema and secrets, the DynamoDB table, and the API in front.

    A per-PR review stack deploys neither the Postgres instance nor the compute pool and its services:
    they are the slow, costly, account-level parts (one instance and one pool per open PR), the review
    identity holds no CREATE POSTGRES INSTANCE, COMPUTE POOL or BIND SERVICE ENDPOINT, and no image is
    pushed, so no registry token is needed. dev runs them; a review stack tears down completely."""
    cfg = b.config
    kept = {"naming": cfg.naming, "providers": b.providers, "protect": cfg.protect, "permissions_boundary": b.boundary}
    if cfg.environment == "review":
        table = RecommendationsTable("dynamodb", RecommendationsTableArgs(**kept, config=cfg.dynamodb))
        return Serving(dynamodb=table, stores=None, api=None)
    stores = serving_stores(
        ServingStoresArgs(
            **kept,
            postgres=cfg.postgres,
            dynamodb=cfg.dynamodb,
            ingress_cidrs=cfg.postgres_ingress_cidrs,
            connection=cfg.snowflake,
            private_key=b.private_key,
            database=b.database,
        ),
        opts=b.after_foundation,
    )
    api = _api(b, recommendations, stores.postgres, stores.access)
    refresh = serving_refresh(b, recommendations, stores, api)
    return Serving(dynamodb=stores.dynamodb, stores=stores, api=api, refresh=refresh)


def _api(
    b: Base, recommendations: RecommendationsData, postgres: SnowflakePostgres, access: PostgresServingAccess
) -> RecommendationApi:
    """The recommendation API on Snowpark Container Services, reading what the serving stores hold."""
    cfg = b.config
    registry = RegistryLogin(
        user=b.access.service_users["registry"].name,
        role=b.access.image_pusher.name,
        token=pulumi.Config().get_secret("registryToken"),
        ready=[b.access],  # the user and its IMAGE_PUSHER grant: a token is minted for them before the push
    )
    backends = ApiBackends(
        pg_host=postgres.host,
        pg_secret=postgres.app_secret.fully_qualified_name,
        pg_ca_secret=postgres.ca_secret.fully_qualified_name,
        external_access_integration=postgres.integration.name,
        model_stage=recommendations.model_stage.fully_qualified_name,
        warehouse=b.warehouses["serve"],
        tables={key: recommendations.tables[key] for keys in SERVED_TABLE_KEYS.values() for key in keys},
    )
    return RecommendationApi(
        "api",
        RecommendationApiArgs(
            naming=cfg.naming,
            providers=b.providers,
            protect=cfg.protect,
            config=cfg.api,
            postgres=cfg.postgres,
            registry=registry,
            connection=cfg.snowflake,
            private_key=b.private_key,
            database=b.database,
            app_role=b.roles["APP_SERVICE"],
            backends=backends,
            app_connection_limit=ROLE_LIMITS["app"][0],
        ),
        opts=pulumi.ResourceOptions(depends_on=[access]),
    )


def build(cfg: StackConfig) -> Platform:
    """Compose the platform's capabilities for one stack."""
    base = _base(cfg)
    pipelines = _pipelines(base)
    dbt_layer(base, pipelines.ingestion)
    serving = _serving(base, pipelines.recommendations)
    operations(base, pipelines, serving_refresh=serving.refresh.task if serving.refresh else None)
    return Platform(base=base, pipelines=pipelines, serving=serving)


def outputs(cfg: StackConfig, p: Platform) -> dict[str, pulumi.Output]:
    """The stack outputs the post-deploy loads, the services and people read."""
    base, pipes, serving = p.base, p.pipelines, p.serving
    ci = {}
    if base.ci:
        ci = {
            "ciRoles": pulumi.Output.all(**{k: v.arn for k, v in base.ci.roles.items()}),
            "ciPreviewUser": base.ci.preview_user.name,
        }
    return (
        ci
        | _serving_outputs(cfg, serving)
        | {
            **serving.dynamodb.outputs(),
            "customer360": pipes.recommendations.customer_360.fully_qualified_name,
            "landingBucket": pipes.landing.bucket.bucket,
            "landingPrefix": pulumi.Output.from_input(cfg.ingestion.landing_prefix),
            "errorTopicArn": base.alerts.topic.arn,
            "pipeNotificationChannel": pipes.ingestion.pipe.notification_channel,
            "analyticsRootTask": pipes.analytics.tasks["dimensions_task"].fully_qualified_name,
            "factSales": pipes.analytics.tables["facts"].fully_qualified_name,
            "cdcWriterRole": pipes.cdc.writer_role.name,
            "ordersAggregated": pipes.cdc.dynamic_tables["orders_aggregated"].fully_qualified_name,
            "dashboardApp": pipes.dashboard.app.fully_qualified_name,
            "dashboardStage": pipes.dashboard.stage.fully_qualified_name,
            "database": base.database,
            "warehouses": pulumi.Output.all(**base.warehouses),
            "functionalRoles": pulumi.Output.all(**base.roles),
            "serviceUsers": pulumi.Output.all(**{k: v.name for k, v in base.access.service_users.items()}),
        }
    )


def _serving_outputs(cfg: StackConfig, serving: Serving) -> dict[str, pulumi.Output]:
    """The API's and Postgres' outputs (none in a review stack, which has neither)."""
    if serving.stores is None or serving.api is None:
        return {}
    pg_roles = {k: pulumi.Output.from_input(cfg.naming.pg(k)) for k in ("app", "loader", "bi")}
    return {
        "apiPool": serving.api.pool.name,
        "apiImages": pulumi.Output.all(**{k: v.repo_digest for k, v in serving.api.images.items()}),
        "apiService": serving.api.services["orchestrator"].fully_qualified_name,
        "apiEndpoint": serving.api.endpoint_url,
        "postgresHost": serving.stores.postgres.host,
        # what `python -m scripts.serving write-ca` writes before a refresh or destroy (not a secret)
        "postgresRootCa": pulumi.Output.unsecret(
            pulumi.Output.all(path=serving.stores.access.root_ca_file, pem=serving.stores.postgres.ca_certificate)
        ),
        "postgresIntegration": serving.stores.postgres.integration.name,
        "postgresAdminSecret": serving.stores.postgres.admin_secret.fully_qualified_name,
        "postgresAppSecret": serving.stores.postgres.app_secret.fully_qualified_name,
        "postgresAppUser": pg_roles["app"],
        "postgresLoaderUser": pg_roles["loader"],
        "postgresLoaderSecret": serving.stores.secrets.secrets["loader"].arn,
        "postgresBiUser": pg_roles["bi"],
        "postgresBiSecret": serving.stores.secrets.secrets["bi"].arn,
        "servingSchema": serving.stores.access.schema.name,
    }


def main() -> None:
    """Entry point used by __main__.py and by the offline plan."""
    cfg = load_stack_config()
    for key, value in outputs(cfg, build(cfg)).items():
        pulumi.export(key, value)
