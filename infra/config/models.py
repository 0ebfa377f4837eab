"""The stack configuration's typed model: one sub-model per capability, checked together.

Pulumi hands config over as loose strings; every component reads these models instead, so a wrong
value fails once, at start, with the config key in the message rather than deep inside a provider.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import CRON, ConfigModel, check_lag
from infra.config.cdc import CdcConfig
from infra.config.dashboard import DashboardConfig
from infra.config.identity import CiConfig, ServiceUsers, cidr_list
from infra.naming import Naming, review_naming

PROJECT = "retail-data-platform"

WAREHOUSE_SIZES = (
    "XSMALL",
    "SMALL",
    "MEDIUM",
    "LARGE",
    "XLARGE",
    "XXLARGE",
    "XXXLARGE",
    "X4LARGE",
    "X5LARGE",
    "X6LARGE",
)
WarehouseSize = Literal[
    "XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE", "X5LARGE", "X6LARGE"
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def warehouse_size_rank(size: str) -> int:
    return WAREHOUSE_SIZES.index(size)


class WarehouseConfig(ConfigModel):
    size: WarehouseSize
    auto_suspend_seconds: int = Field(ge=60, le=86400)


class Warehouses(ConfigModel):
    load: WarehouseConfig
    transform: WarehouseConfig
    serve: WarehouseConfig


class ResourceMonitorConfig(ConfigModel):
    credit_quota: int = Field(gt=0, le=100_000)
    frequency: Literal["DAILY", "WEEKLY", "MONTHLY", "YEARLY"] = "MONTHLY"
    notify_at: list[int] = Field(min_length=1)
    suspend_at: int = Field(gt=0, le=200)
    suspend_immediate_at: int = Field(gt=0, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> ResourceMonitorConfig:
        if any(not 0 < t <= 200 for t in self.notify_at):
            raise ValueError("notifyAt thresholds must be percentages in 1..200")
        if self.suspend_immediate_at < self.suspend_at:
            raise ValueError("suspendImmediateAt must be >= suspendAt")
        return self


class SnowflakeConnection(ConfigModel):
    organization: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    account: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    deploy_user: str = Field(pattern=r"^[A-Za-z0-9_]+$")


class IngestionConfig(ConfigModel):
    landing_prefix: str = Field(pattern=r"^[a-z0-9][a-z0-9/_-]*/$")
    task_schedule: str
    task_timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")
    task_enabled: bool
    max_file_mb: int = Field(gt=0, le=5000)
    processed_expiry_days: int = Field(gt=0, le=3650)
    rejected_expiry_days: int = Field(gt=0, le=3650)

    @field_validator("task_schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not CRON.match(v.strip()):
            raise ValueError("must be a five-field cron expression such as '0 2 * * *'")
        return v.strip()


PG_COMPUTE_FAMILIES = Literal[
    "STANDARD_M",
    "STANDARD_L",
    "STANDARD_XL",
    "STANDARD_2XL",
    "HIGHMEM_L",
    "HIGHMEM_XL",
    "HIGHMEM_2XL",
    "BURST_XS",
    "BURST_S",
    "BURST_M",
]


class ScaleConfig(ConfigModel):
    """Synthetic data volume of the post-deploy `generate` step (the reference scale by default)."""

    products: int = Field(default=2000, ge=12, le=1_000_000)
    stores: int = Field(default=500, ge=1, le=100_000)
    customers: int = Field(default=50_000, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0, le=99)
    as_of: date

    def updated(self, **changes: object) -> ScaleConfig:
        """A copy with some fields changed, validated like the stack file's values."""
        return ScaleConfig.model_validate({**self.model_dump(), **changes})


class RecommendationsConfig(ConfigModel):
    customer360_target_lag: str
    refresh_schedule: str
    propensity_schedule: str
    task_timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")
    tasks_enabled: bool
    scale: ScaleConfig

    @field_validator("customer360_target_lag")
    @classmethod
    def _lag(cls, v: str) -> str:
        return check_lag(v, "30 minutes")

    @field_validator("refresh_schedule", "propensity_schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not CRON.match(v.strip()):
            raise ValueError("must be a five-field cron expression such as '0 3 * * *'")
        return v.strip()


class AnalyticsScale(ConfigModel):
    """Volume of the generated e-commerce sources (the reference volumes by default) and the day of
    changes the post-deploy `changes` step simulates."""

    customers: int = Field(default=103, ge=1, le=10_000_000)
    products: int = Field(default=200, ge=1, le=1_000_000)
    orders: int = Field(default=5003, ge=1, le=100_000_000)
    items: int = Field(default=15_008, ge=1, le=500_000_000)
    movements: int = Field(default=10_004, ge=0, le=500_000_000)
    history_days: int = Field(default=730, ge=1, le=3650)
    seed: int = Field(default=0, ge=0, le=99)
    as_of: date

    @model_validator(mode="after")
    def _items(self) -> AnalyticsScale:
        if self.items < self.orders:
            raise ValueError("items must be at least orders (every order has at least one item)")
        return self

    def updated(self, **changes: object) -> AnalyticsScale:
        """A copy with some fields changed, validated like the stack file's values."""
        return AnalyticsScale.model_validate({**self.model_dump(), **changes})


class AnalyticsLags(ConfigModel):
    """Target lags of the three dynamic tables the dashboard reads (their shared input is DOWNSTREAM)."""

    enriched_orders: str
    product_performance: str
    current_inventory: str

    @field_validator("enriched_orders", "product_performance", "current_inventory")
    @classmethod
    def _lag(cls, v: str) -> str:
        return check_lag(v, "5 minutes")


class AnalyticsConfig(ConfigModel):
    """The e-commerce analytics pipeline: its task graph's schedule, dynamic-table lags and data volume."""

    task_schedule: str
    task_timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$")
    tasks_enabled: bool
    lags: AnalyticsLags
    date_horizon_days: int = Field(default=365, ge=0, le=3650)
    scale: AnalyticsScale

    @field_validator("task_schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        if not CRON.match(v.strip()):
            raise ValueError("must be a five-field cron expression such as '*/15 * * * *'")
        return v.strip()


class PostgresConfig(ConfigModel):
    """The Snowflake Postgres instance and its serving schema. Ingress CIDRs are `allowedCidrs`."""

    compute_family: PG_COMPUTE_FAMILIES
    storage_gb: int = Field(ge=10, le=65_535)
    version: Literal[16, 17, 18]
    high_availability: bool
    database: str = Field(default="postgres", pattern=r"^[a-z_][a-z0-9_]*$")
    serving_schema: str = Field(default="serving", pattern=r"^[a-z_][a-z0-9_]*$")
    credential_rotation: int = Field(default=1, ge=1)


class DynamoDbConfig(ConfigModel):
    point_in_time_recovery: bool
    deletion_protection: bool


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


class SpcsConfig(ConfigModel):
    """Compute pool, image tag and the two services of the recommendation API."""

    instance_family: Literal["CPU_X64_XS", "CPU_X64_S", "CPU_X64_M", "CPU_X64_L", "HIGHMEM_X64_S", "HIGHMEM_X64_M"]
    min_nodes: int = Field(ge=1, le=50)
    max_nodes: int = Field(ge=1, le=50)
    auto_suspend_seconds: int = Field(ge=0, le=86400)
    image_tag: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    ranker_mode: Literal["inprocess", "http"]
    orchestrator: ServiceSizing
    ranker: ServiceSizing

    @model_validator(mode="after")
    def _nodes(self) -> SpcsConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError("minNodes must not exceed maxNodes")
        return self


class StackConfig(ConfigModel):
    """Everything a stack may vary. Field aliases are the keys in Pulumi.<stack>.yaml."""

    stack: str = Field(pattern=r"^[a-z][a-z0-9-]{0,20}$")
    prefix: str = Field(default="RDP", pattern=r"^[A-Z][A-Z0-9]{1,7}$")
    environment: Literal["dev", "prod", "review"]
    aws_region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    snowflake: SnowflakeConnection
    warehouses: Warehouses
    max_warehouse_size: WarehouseSize
    max_auto_suspend_seconds: int = Field(ge=60, le=86400)
    resource_monitor: ResourceMonitorConfig
    data_retention_days: int = Field(ge=0, le=90)
    protect: bool
    force_destroy_bucket: bool
    alert_emails: list[str] = Field(min_length=1)
    allowed_cidrs: list[str] = Field(min_length=1)
    service_users: ServiceUsers
    ci: CiConfig
    ingestion: IngestionConfig
    recommendations: RecommendationsConfig
    analytics: AnalyticsConfig
    cdc: CdcConfig
    dashboard: DashboardConfig
    postgres: PostgresConfig
    dynamodb: DynamoDbConfig
    spcs: SpcsConfig

    @property
    def naming(self) -> Naming:
        """The stack's naming helper: every physical name of the stack comes from it."""
        return Naming(self.prefix, self.stack)

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if not _EMAIL.match(e)]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        return v

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        return cidr_list(v)

    def _deploy_user(self) -> None:
        """A deploy user per environment: dev's key can never change prod, and review stacks deploy as
        the review identity, which owns only what review stacks create."""
        user = self.snowflake.deploy_user
        if self.environment == "review":
            expected = review_naming(self.prefix).sf("DEPLOYER")
            if user != expected:
                raise ValueError(f"snowflake.deployUser {user} must be the review identity {expected} here")
        elif not user.startswith(self.naming.sf_prefix + "_"):
            raise ValueError(
                f"snowflake.deployUser {user} must be this stack's own user ({self.naming.sf('DEPLOYER')}), "
                "not one shared with another environment"
            )

    @model_validator(mode="after")
    def _cross_checks(self) -> StackConfig:
        for role, wh in (
            ("load", self.warehouses.load),
            ("transform", self.warehouses.transform),
            ("serve", self.warehouses.serve),
        ):
            if warehouse_size_rank(wh.size) > warehouse_size_rank(self.max_warehouse_size):
                raise ValueError(
                    f"warehouses.{role}.size {wh.size} is larger than maxWarehouseSize {self.max_warehouse_size}"
                )
            if wh.auto_suspend_seconds > self.max_auto_suspend_seconds:
                raise ValueError(
                    f"warehouses.{role}.autoSuspendSeconds {wh.auto_suspend_seconds} exceeds "
                    f"maxAutoSuspendSeconds {self.max_auto_suspend_seconds}"
                )
        self._deploy_user()
        if self.ci.review_stacks and self.environment != "dev":
            raise ValueError("ci.reviewStacks: only a dev stack may host the review identity")
        if self.environment == "review":  # the review identity cannot grant EXECUTE TASK: nothing could resume
            started = [k for k, on in (("ingestion.taskEnabled", self.ingestion.task_enabled),
                                       ("recommendations.tasksEnabled", self.recommendations.tasks_enabled),
                                       ("analytics.tasksEnabled", self.analytics.tasks_enabled),
                                       ("cdc.taskEnabled", self.cdc.task_enabled)) if on]  # fmt: skip
            if started:
                raise ValueError(f"{', '.join(started)} must be false in a review stack (no EXECUTE TASK there)")
        if self.environment == "prod":
            if not self.protect:
                raise ValueError("protect must be true in prod")
            if self.force_destroy_bucket:
                raise ValueError("forceDestroyBucket must be false in prod")
            if any(ipaddress.ip_network(c).prefixlen == 0 for c in self.allowed_cidrs):
                raise ValueError("allowedCidrs may not contain 0.0.0.0/0 (or ::/0) in prod")
            if not (self.dynamodb.point_in_time_recovery and self.dynamodb.deletion_protection):
                raise ValueError("dynamodb.pointInTimeRecovery and dynamodb.deletionProtection must be true in prod")
            if not self.postgres.high_availability:
                raise ValueError("postgres.highAvailability must be true in prod")
        return self
