"""The recommendation API's config: its compute pool, image tag and the sizing of its two services."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import PROJECT, ConfigModel


class ServiceSizing(ConfigModel):
    min_instances: int = Field(ge=1, le=100)
    max_instances: int = Field(ge=1, le=100)
    cpu_request: float = Field(gt=0, le=64)
    cpu_limit: float = Field(gt=0, le=64)
    memory_request: str = Field(pattern=r"^\d+(Mi|Gi|M|G)$")
    memory_limit: str = Field(pattern=r"^\d+(Mi|Gi|M|G)$")

    @model_validator(mode="after")
    def _bounds(self) -> ServiceSizing:
        if self.min_instances > self.max_instances:
            raise ValueError("minInstances must not exceed maxInstances")
        if self.cpu_request > self.cpu_limit:
            raise ValueError("cpuRequest must not exceed cpuLimit")
        return self

    @property
    def workers(self) -> int:
        """uvicorn workers per instance: one per whole requested CPU, at least one (the image's server.py)."""
        return max(1, math.floor(self.cpu_request))


def pool_per_worker(sizing: ServiceSizing, connection_limit: int) -> int:
    """Postgres connections each orchestrator worker may pool: every worker of every instance at once
    stays within the app role's connection_limit. Zero fails the plan (a ValueError), naming the keys to lower."""
    workers = sizing.max_instances * sizing.workers
    size = connection_limit // workers
    if size < 1:
        key = f"{PROJECT}:api.orchestrator"
        raise ValueError(
            f"{key}.maxInstances ({sizing.max_instances}) × workers per instance ({sizing.workers}, from "
            f"{key}.cpuRequest {sizing.cpu_request:g}) = {workers} workers, each needing a Postgres connection, "
            f"over the app role's connection_limit of {connection_limit}: lower them"
        )
    return size


class ApiConfig(ConfigModel):
    """Compute pool, image tag and the two services (orchestrator, ranker) of the recommendation API."""

    instance_family: Literal["CPU_X64_XS", "CPU_X64_S", "CPU_X64_M", "CPU_X64_L", "HIGHMEM_X64_S", "HIGHMEM_X64_M"]
    min_nodes: int = Field(ge=1, le=50)
    max_nodes: int = Field(ge=1, le=50)
    auto_suspend_seconds: int = Field(ge=0, le=86400)
    image_tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    ranker_mode: Literal["inprocess", "http"]
    orchestrator: ServiceSizing
    ranker: ServiceSizing

    @model_validator(mode="after")
    def _nodes(self) -> ApiConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError("minNodes must not exceed maxNodes")
        return self
