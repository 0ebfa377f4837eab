"""The recommendation API's config: its compute pool, image tag and the sizing of its two services."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infra.config.base import ConfigModel


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
