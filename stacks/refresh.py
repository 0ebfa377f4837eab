"""The scheduled refresh of the serving stores, composed from what the serving stores, the API and the
recommendations declare (infra/serving/refresh.py): only where there is a compute pool and Postgres."""

from __future__ import annotations

import pulumi_snowflake as snowflake

from infra.api.component import RecommendationApi
from infra.config.stack import StackConfig
from infra.foundation.alerts import ErrorAlerts
from infra.foundation.component import SnowflakeFoundation
from infra.providers import Providers
from infra.recommendations.component import RecommendationsData
from infra.serving.component import ServingStores
from infra.serving.refresh import ServingRefresh, ServingRefreshArgs


def serving_refresh(
    cfg: StackConfig,
    providers: Providers,
    foundation: SnowflakeFoundation,
    alerts: ErrorAlerts,
    recommendations: RecommendationsData,
    stores: ServingStores,
    api: RecommendationApi,
    monitor_role: snowflake.AccountRole,
) -> ServingRefresh:
    """The task and the job it runs on the API's pool, as the stack's owner role, on the transform
    warehouse, its failures sent to the stack's error integration."""
    return ServingRefresh(
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
            monitor_role=monitor_role,
        ),
    )
