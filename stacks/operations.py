"""The operations alerts of a stack, composed from what the platform's other components declared."""

from __future__ import annotations

from typing import Any

import pulumi

from infra.operations.catalog import lag_targets
from infra.operations.component import OperationsAlerts, OperationsAlertsArgs


# `b` and `pipelines` are stacks/platform.py's Base and Pipelines (platform imports this module, not back).
def operations(b: Any, pipelines: Any, serving_refresh: pulumi.Resource | None) -> OperationsAlerts:
    """The alerts on the transform warehouse, notifying the stack's error integration; each waits for the
    objects its condition names (each feed's pipe, the dynamic tables with a target lag, the serving refresh task,
    where the stack has one)."""
    cfg = b.config
    targets = lag_targets(cfg.analytics.lags, cfg.cdc.lags)
    return OperationsAlerts(
        "operations",
        OperationsAlertsArgs(
            naming=cfg.naming,
            providers=b.providers,
            config=cfg.operations,
            database=b.database,
            warehouse=b.warehouses["transform"],
            error_integration=b.alerts.error_integration,
            lag_targets=targets,
            pipes={key: feed.pipe for key, feed in pipelines.ingestion.feeds.items()},
            dynamic_tables=[getattr(pipelines, t.capability).dynamic_tables[t.key] for t in targets],
            serving_refresh=serving_refresh,
        ),
        opts=b.after_foundation,
    )
