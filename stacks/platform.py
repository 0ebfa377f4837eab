"""What one environment of the platform is made of. Stacks differ only by their config."""

from __future__ import annotations

import pulumi

from infra.access import AccessControl, AccessControlArgs
from infra.alerts import ErrorAlerts, ErrorAlertsArgs
from infra.config import StackConfig, load_stack_config
from infra.foundation import SnowflakeFoundation, SnowflakeFoundationArgs
from infra.ingestion import CustomerIngestion, CustomerIngestionArgs
from infra.landing import LandingBucket, LandingBucketArgs
from infra.naming import Naming
from infra.providers import AwsAccount, AwsAccountArgs, SnowflakeProviders, SnowflakeProvidersArgs
from infra.recommendations import RecommendationsData, RecommendationsDataArgs
from infra.serving import (
    PostgresServingAccess,
    PostgresServingAccessArgs,
    RecommendationsTable,
    RecommendationsTableArgs,
    SnowflakePostgres,
    SnowflakePostgresArgs,
)
from infra.spcs import RecommendationApi, RecommendationApiArgs


def build(cfg: StackConfig) -> dict[str, pulumi.Output]:
    """Compose the platform's components for one stack and return its outputs."""
    naming = Naming(cfg.prefix, cfg.stack)
    secrets = pulumi.Config()
    providers = SnowflakeProviders(
        "snowflake",
        SnowflakeProvidersArgs(
            organization=cfg.snowflake.organization,
            account=cfg.snowflake.account,
            user=cfg.snowflake.deploy_user,
            private_key=secrets.get_secret("snowflakePrivateKey"),
        ),
    )
    foundation = SnowflakeFoundation(
        "foundation",
        SnowflakeFoundationArgs(
            naming=naming,
            warehouses=cfg.warehouses,
            monitor=cfg.resource_monitor,
            data_retention_days=cfg.data_retention_days,
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            accountadmin=providers.accountadmin,
        ),
    )
    access = AccessControl(
        "access",
        AccessControlArgs(
            naming=naming,
            database=foundation.database.name,
            schemas={k: v.name for k, v in foundation.schemas.items()},
            warehouses={k: v.name for k, v in foundation.warehouses.items()},
            service_user_public_key=cfg.service_user_public_key,
            securityadmin=providers.securityadmin,
        ),
    )
    aws_account = AwsAccount("aws", AwsAccountArgs(region=cfg.aws_region, stack=cfg.stack))
    aws_provider, account_id = aws_account.provider, aws_account.account_id
    landing = LandingBucket(
        "landing",
        LandingBucketArgs(
            bucket_name=account_id.apply(lambda a: naming.bucket("landing", a)),
            landing_prefix=cfg.ingestion.landing_prefix,
            processed_expiry_days=cfg.ingestion.processed_expiry_days,
            rejected_expiry_days=cfg.ingestion.rejected_expiry_days,
            versioning=cfg.environment == "prod",
            force_destroy=cfg.force_destroy_bucket,
            protect=cfg.protect,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider]),
    )
    alerts = ErrorAlerts(
        "alerts",
        ErrorAlertsArgs(
            topic_name=naming.aws("ingest-errors"),
            role_name=naming.aws("snowflake-sns"),
            integration_name=naming.sf("INGEST_ERRORS"),
            account_id=account_id,
            emails=cfg.alert_emails,
            accountadmin=providers.accountadmin,
            aws_provider=aws_provider,
        ),
    )
    ingestion = CustomerIngestion(
        "ingestion",
        CustomerIngestionArgs(
            database=foundation.database.name,
            bucket_name=landing.bucket.bucket,
            bucket_arn=landing.bucket.arn,
            landing_prefix=cfg.ingestion.landing_prefix,
            account_id=account_id,
            integration_name=naming.sf("LANDING_S3"),
            role_name=naming.aws("snowflake-s3"),
            error_integration=alerts.integration.name,
            transform_warehouse=foundation.warehouses["transform"].name,
            task_schedule=cfg.ingestion.task_schedule,
            task_timezone=cfg.ingestion.task_timezone,
            task_enabled=cfg.ingestion.task_enabled,
            loader_role=access.functional_roles["LOADER"].name,
            transformer_role=access.functional_roles["TRANSFORMER"].name,
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            securityadmin=providers.securityadmin,
            accountadmin=providers.accountadmin,
            aws_provider=aws_provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[foundation]),
    )
    recommendations = RecommendationsData(
        "recommendations",
        RecommendationsDataArgs(
            database=foundation.database.name,
            transform_warehouse=foundation.warehouses["transform"].name,
            target_lag=cfg.recommendations.customer360_target_lag,
            refresh_schedule=cfg.recommendations.refresh_schedule,
            propensity_schedule=cfg.recommendations.propensity_schedule,
            task_timezone=cfg.recommendations.task_timezone,
            tasks_enabled=cfg.recommendations.tasks_enabled,
            error_integration=alerts.integration.name,
            transformer_role=access.functional_roles["TRANSFORMER"].name,
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            securityadmin=providers.securityadmin,
        ),
        opts=pulumi.ResourceOptions(depends_on=[foundation]),
    )
    pg = SnowflakePostgres(
        "postgres",
        SnowflakePostgresArgs(
            database=foundation.database.name,
            instance_name=naming.sf("PG"),
            ingress_rule_name=naming.sf("PG_INGRESS"),
            policy_name=naming.sf("PG_POLICY"),
            egress_rule_name=naming.sf("PG_EGRESS_RULE"),
            admin_secret_name="PG_ADMIN_PASSWORD",
            app_secret_name="PG_APP_PASSWORD",
            integration_name=naming.sf("PG_ACCESS_INTEGRATION"),
            ingress_cidrs=cfg.allowed_cidrs,
            compute_family=cfg.postgres.compute_family,
            storage_gb=cfg.postgres.storage_gb,
            version=cfg.postgres.version,
            high_availability=cfg.postgres.high_availability,
            credential_rotation=cfg.postgres.credential_rotation,
            organization=cfg.snowflake.organization,
            account=cfg.snowflake.account,
            deploy_user=cfg.snowflake.deploy_user,
            private_key=secrets.get_secret("snowflakePrivateKey"),
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            securityadmin=providers.securityadmin,
            accountadmin=providers.accountadmin,
        ),
        opts=pulumi.ResourceOptions(depends_on=[foundation]),
    )
    pg_roles = {k: naming.pg(k) for k in ("app", "loader", "bi")}
    serving = PostgresServingAccess(
        "serving",
        PostgresServingAccessArgs(
            host=pg.host,
            admin_user=pg.credential.username,
            admin_password=pg.admin_password,
            app_password=pg.app_password,
            database=cfg.postgres.database,
            schema=cfg.postgres.serving_schema,
            app_role=pg_roles["app"],
            loader_role=pg_roles["loader"],
            bi_role=pg_roles["bi"],
            protect=cfg.protect,
        ),
    )
    dynamo = RecommendationsTable(
        "dynamodb",
        RecommendationsTableArgs(
            name=naming.aws("product-recommendations"),
            point_in_time_recovery=cfg.dynamodb.point_in_time_recovery,
            deletion_protection=cfg.dynamodb.deletion_protection,
            protect=cfg.protect,
        ),
        opts=pulumi.ResourceOptions(providers=[aws_provider]),
    )
    api = RecommendationApi(
        "api",
        RecommendationApiArgs(
            database=foundation.database.name,
            database_name=naming.database,
            pool_name=naming.sf("POOL"),
            repository_name="RETAIL_IMAGES",
            orchestrator_service="ORCHESTRATOR_SERVICE",
            ranker_service="RANKER_SERVICE",
            instance_family=cfg.spcs.instance_family,
            min_nodes=cfg.spcs.min_nodes,
            max_nodes=cfg.spcs.max_nodes,
            auto_suspend_seconds=cfg.spcs.auto_suspend_seconds,
            image_tag=cfg.spcs.image_tag,
            registry_username=cfg.spcs.registry_username,
            registry_password=secrets.get_secret("registryPassword"),
            ranker_mode=cfg.spcs.ranker_mode,
            orchestrator=cfg.spcs.orchestrator,
            ranker=cfg.spcs.ranker,
            pg_host=pg.host,
            pg_db=cfg.postgres.database,
            pg_user=pg_roles["app"],
            pg_schema=cfg.postgres.serving_schema,
            pg_secret=pg.app_secret.fully_qualified_name,
            external_access_integration=pg.integration.name,
            model_stage=recommendations.model_stage.fully_qualified_name,
            dynamodb_table=dynamo.table.name,
            aws_region=cfg.aws_region,
            warehouse=foundation.warehouses["serve"].name,
            app_role=access.functional_roles["APP_SERVICE"].name,
            protect=cfg.protect,
            sysadmin=providers.sysadmin,
            securityadmin=providers.securityadmin,
            accountadmin=providers.accountadmin,
        ),
        opts=pulumi.ResourceOptions(depends_on=[serving]),
    )
    return {
        "apiPool": api.pool.name,
        "apiImages": pulumi.Output.all(**{k: v.repo_digest for k, v in api.images.items()}),
        "apiService": api.services["orchestrator"].fully_qualified_name,
        "customer360": recommendations.customer_360.fully_qualified_name,
        "postgresHost": pg.host,
        "postgresIntegration": pg.integration.name,
        "postgresAdminSecret": pg.admin_secret.fully_qualified_name,
        "postgresAppSecret": pg.app_secret.fully_qualified_name,
        "postgresAdminPassword": pg.admin_password,
        "postgresAppUser": pulumi.Output.from_input(pg_roles["app"]),
        "postgresLoaderUser": pulumi.Output.from_input(pg_roles["loader"]),
        "postgresLoaderPassword": serving.passwords["loader"],
        "postgresBiUser": pulumi.Output.from_input(pg_roles["bi"]),
        "postgresBiPassword": serving.passwords["bi"],
        "servingSchema": serving.schema.name,
        "dynamodbTable": dynamo.table.name,
        "landingBucket": landing.bucket.bucket,
        "landingPrefix": pulumi.Output.from_input(cfg.ingestion.landing_prefix),
        "errorTopicArn": alerts.topic.arn,
        "pipeNotificationChannel": ingestion.pipe.notification_channel,
        "database": foundation.database.name,
        "warehouses": pulumi.Output.all(**{k: v.name for k, v in foundation.warehouses.items()}),
        "functionalRoles": pulumi.Output.all(**{k: v.name for k, v in access.functional_roles.items()}),
        "serviceUser": access.service_user.name,
    }


def main() -> None:
    """Entry point used by __main__.py and by the offline plan."""
    outputs = build(load_stack_config())
    for key, value in outputs.items():
        pulumi.export(key, value)
