"""The scheduled refresh of the serving stores, composed from what the serving stores, the API and the
recommendations declare (infra/serving/refresh.py), and its child task, the DynamoDB export
(infra/serving/export.py): only where there is a compute pool and Postgres."""

from __future__ import annotations

from typing import Protocol

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


class RefreshBase(Protocol):
    """What the refresh takes of the platform's base (stacks/platform.py `Base`)."""

    config: StackConfig
    providers: Providers
    foundation: SnowflakeFoundation
    alerts: ErrorAlerts
    boundary: pulumi.Output[str]

    @property
    def roles(self) -> dict[str, pulumi.Output[str]]: ...


def serving_refresh(
    b: RefreshBase, recommendations: RecommendationsData, stores: ServingStores, api: RecommendationApi
) -> ServingRefresh:
    """The task and the job it runs on the API's pool, as the stack's owner role, on the transform
    warehouse, its failures sent to the stack's error integration; then the DynamoDB export after it.
    The monitor's role (TRANSFORMER) may read both tasks' history."""
    cfg, foundation = b.config, b.foundation
    common = {
        "naming": cfg.naming,
        "providers": b.providers,
        "config": cfg.serving_refresh,
        "database": foundation.database.name,
        "warehouse": foundation.warehouses["transform"].name,
        "error_integration": b.alerts.error_integration,
        "reads": [recommendations],
        "monitor_role": b.roles["TRANSFORMER"],
    }
    refresh = ServingRefresh(
        "serving-refresh",
        ServingRefreshArgs(
            **common,
            postgres_config=cfg.postgres,
            stack=cfg.stack,
            postgres=stores.postgres,
            loader_password=stores.access.passwords["loader"],
            pool=api.pool,
            repository=api.repository,
            registry=api.registry,
            image_version=cfg.api.image_tag,
        ),
    )
    source = foundation.database.name.apply(lambda d: recommendations_catalog.q(d, "USER_PRODUCT_RECOMMENDATIONS"))
    DynamoDbExport(
        "serving-dynamodb-export",
        DynamoDbExportArgs(
            **common,
            region=cfg.aws_region,
            refresh_task=refresh.task,
            source=source,
            table=stores.dynamodb.table,
            permissions_boundary=b.boundary,
        ),
    )
    return refresh
