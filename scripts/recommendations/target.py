"""The recommendations' target: the shared target with the data's scale (and the generator's
workers), and the recommendations catalog's names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.config.reader import stack_config
from infra.recommendations import catalog
from infra.recommendations.config import ScaleConfig
from scripts.core import connections
from scripts.core import target as core
from scripts.core.target import Target, extended

# what the duties' sessions need of a deployed stack
DUTY_OUTPUTS = ("database", "serviceUsers", "functionalRoles", "warehouses")
# the base tables' placeholders in the SQL files that read them all
BASE_TABLES = {
    "customers": "CUSTOMERS",
    "products": "PRODUCT_CATALOG",
    "inventory": "INVENTORY",
    "events": "EVENT_STREAM",
}


@dataclass
class RecommendationsTarget(Target):
    """Where the recommendations' loads read and write, and at what scale."""

    scale: ScaleConfig | None = None
    workers: int = 2
    # who writes the BRONZE inputs (`generate`): LOADER on a stack; the shared session on the stand-ins
    connect_loader: Callable[[], Any] | None = None
    # the model registry's version of this training run (scripts/recommendations/registry.py sets it)
    model_version: str | None = None

    def writer(self) -> Any:
        """A session of the duty that writes the generated BRONZE tables."""
        return (self.connect_loader or self.connect_snowflake)()

    def q(self, obj: str) -> str:
        return catalog.q(self.database, obj)

    def names(self, **objects: str) -> dict[str, str]:
        """SQL placeholders → the objects' qualified names."""
        return {key: self.q(obj) for key, obj in objects.items()}

    @property
    def as_of_literal(self) -> str:
        return f"CAST('{self.scale.as_of.isoformat()} 00:00:00' AS TIMESTAMP)"


def local_target(
    stack: str = "dev",
    scale: ScaleConfig | None = None,
    database: str | None = None,
    pg_schema: str | None = None,
    dynamodb_table: str | None = None,
) -> RecommendationsTarget:
    """The stand-ins with the stack's names (or the given ones) at the stack's scale (or `scale`)."""
    base = core.local_target(stack, database, pg_schema, dynamodb_table)
    return extended(base, RecommendationsTarget, scale=scale or stack_config(stack).recommendations.scale)


def stack_target(stack: str, scale: ScaleConfig | None = None) -> RecommendationsTarget:
    """A deployed stack at its configured scale (or `scale`): TRANSFORMER builds and trains, the loader
    service user (as LOADER) generates."""
    cfg = stack_config(stack)
    base = core.stack_target(stack, DUTY_OUTPUTS)  # no serving store: a review stack has no Postgres

    def connect_loader() -> Any:
        out = connections.stack_outputs(stack, ("database", "serviceUsers", "functionalRoles", "warehouses"))
        return connections.loader_session(cfg, out)

    return extended(
        base, RecommendationsTarget, scale=scale or cfg.recommendations.scale, connect_loader=connect_loader
    )


def service_target(stack: str) -> RecommendationsTarget:
    """Inside a job service of the stack (the scheduled refresh's `train`), at its configured scale."""
    return extended(core.service_target(stack), RecommendationsTarget, scale=stack_config(stack).recommendations.scale)
