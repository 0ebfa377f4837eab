"""The scheduled refresh of the serving stores, composed from what the serving stores, the API and the
recommendations declare (infra/serving/refresh.py), and its child task, the DynamoDB export
(infra/serving/export.py): only where there is a compute pool and Postgres."""

from __future__ import annotations

import pulumi

from infra.api.component import RecommendationApi
from infra.config.stack import StackConfig
from infra.foundation.alerts import ErrorAlerts
from infra.foundation.component import SnowflakeFoundation
from infra.providers import Providers
from infra.recommendations import catalog as recommendations_catalog
from infra.recommendations.component import RecommendationsData
from infra.serving.component import ServingStores
from infra.serving.export import DynamoDbExport, DynamoDbExportArgs
from infra.serving.refresh import ServingRefresh, ServingRefreshArgs


def serving_refresh(
    cfg: StackConfig,
    providers: Providers,
    foundation: SnowflakeFoundation,
    alerts: ErrorAlerts,
    recommendations: RecommendationsData,
    stores: ServingStores,
    api: RecommendationApi,
    boundary: pulumi.Input[str],
) -> ServingRefresh:
    """The task and the job it runs on the API's pool, as the stack's owner role, on the transform
    warehouse, its failures sent to the stack's error integration; then the DynamoDB export after it."""
    refresh = ServingRefresh(
        "serving-refresh",
        ServingRefreshArgs(
            naming=cfg.naming,
            providers=providers,
            config=cfg.serving_refresh,
            postgres_config=cfg.postgres,
            stack=cfg.stack,
            database=foundation.database.name,
            warehouse=foundation.warehouses["transform"].name,
            error_integration=alerts.error_integration,
            postgres=stores.postgres,
            loader_password=stores.access.passwords["loader"],
            pool=api.pool,
            repository=api.repository,
            registry=api.registry,
            image_version=cfg.api.image_tag,
            reads=[recommendations],
        ),
    )
    source = foundation.database.name.apply(lambda d: recommendations_catalog.q(d, "USER_PRODUCT_RECOMMENDATIONS"))
    DynamoDbExport(
        "serving-dynamodb-export",
        DynamoDbExportArgs(
            naming=cfg.naming,
            providers=providers,
            config=cfg.serving_refresh,
            region=cfg.aws_region,
            database=foundation.database.name,
            warehouse=foundation.warehouses["transform"].name,
            error_integration=alerts.error_integration,
            refresh_task=refresh.task,
            source=source,
            table=stores.dynamodb.table,
            permissions_boundary=boundary,
            reads=[recommendations],
        ),
    )
    return refresh
