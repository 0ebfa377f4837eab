"""The stack configuration's typed model: each capability's config sub-model (kept beside its component),
checked together.

Pulumi hands config over as loose strings; every component reads these models instead, so a wrong
value fails once, at start, with the config key in the message rather than deep inside a provider.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.analytics.config import AnalyticsConfig
from infra.api.config import ApiConfig
from infra.cdc.config import CdcConfig
from infra.config.base import ConfigModel, WarehouseSize, warehouse_size_rank
from infra.config.cost import CostConfig
from infra.dashboard.config import DashboardConfig
from infra.foundation.config import (
    SERVICE_DUTIES,
    CiConfig,
    ResourceMonitorConfig,
    ServiceUsers,
    SnowflakeConnection,
    Warehouses,
    cidr_list,
    is_public,
    whole_spaces,
)
from infra.ingestion.config import IngestionConfig
from infra.naming import Naming, review_naming
from infra.operations.config import OperationsConfig
from infra.recommendations.config import RecommendationsConfig
from infra.serving.config import DynamoDbConfig, PostgresConfig, RefreshConfig

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


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
    # public ranges (anything but RFC 1918/6598/4193) that prod may list, each with why it was accepted
    reviewed_public_cidrs: dict[str, str] = Field(default_factory=dict)
    service_users: ServiceUsers
    ci: CiConfig
    ingestion: IngestionConfig
    recommendations: RecommendationsConfig
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    analytics: AnalyticsConfig
    cdc: CdcConfig
    dashboard: DashboardConfig
    postgres: PostgresConfig
    dynamodb: DynamoDbConfig
    api: ApiConfig
    serving_refresh: RefreshConfig = Field(default_factory=RefreshConfig)
    cost: CostConfig = Field(default_factory=CostConfig)

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

    @field_validator("reviewed_public_cidrs")
    @classmethod
    def _reviewed(cls, v: dict[str, str]) -> dict[str, str]:
        blank = [c for c, reason in v.items() if not reason.strip()]
        if blank:
            raise ValueError(f"{', '.join(blank)}: give the reason each public range was accepted")
        return dict(zip(cidr_list(list(v)), v.values(), strict=True))

    def network_ranges(self) -> dict[str, list[str]]:
        """Every list of ranges the stack lets in, by config key."""
        ranges = {
            "allowedCidrs": self.allowed_cidrs,
            "ci.runnerCidrs": self.ci.runner_cidrs,
            "postgres.spcsEgressCidrs": self.postgres.spcs_egress_cidrs,
        }
        for duty in SERVICE_DUTIES:
            if own := getattr(self.service_users, duty).allowed_cidrs:
                ranges[f"serviceUsers.{duty}.allowedCidrs"] = own
        return ranges

    @property
    def postgres_ingress_cidrs(self) -> list[str]:
        """Who may reach the Postgres instance: `allowedCidrs`, then each range of `ci.runnerCidrs` (the
        postgresql provider connects from CI's runners during `up`, `refresh` and `destroy`) and of
        `postgres.spcsEgressCidrs` (the API's containers) that no range before it covers already."""
        out: list[str] = []
        for cidr in [*self.allowed_cidrs, *self.ci.runner_cidrs, *self.postgres.spcs_egress_cidrs]:
            net = ipaddress.ip_network(cidr)
            if not any(net.version == o.version and net.subnet_of(o) for o in map(ipaddress.ip_network, out)):
                out.append(cidr)
        return out

    def _network(self) -> None:
        """The union of every range is checked, not each range alone: together they never open the stack
        to the whole internet, and in prod every public range is one a reviewer accepted."""
        ranges = self.network_ranges()
        if spaces := whole_spaces([c for cidrs in ranges.values() for c in cidrs]):
            raise ValueError(f"together {', '.join(ranges)} open access to the whole {' and '.join(spaces)} internet")
        if self.environment != "prod":
            return
        reviewed = [ipaddress.ip_network(c) for c in self.reviewed_public_cidrs]
        for key, cidrs in ranges.items():
            for cidr in cidrs:
                net = ipaddress.ip_network(cidr)
                if is_public(cidr) and not any(net.version == r.version and net.subnet_of(r) for r in reviewed):
                    raise ValueError(f"{key}: {cidr} is a public range; prod takes it only from reviewedPublicCidrs")

    def _teardown(self) -> None:
        """`protect: false` says the stack is torn down with `pulumi destroy`: then nothing may stop it
        halfway (a non-empty bucket without forceDestroy, a table with deletion protection). A protected
        stack (prod always) is torn down by the steps in README "Teardown", which lift each on purpose."""
        if self.protect:
            return
        blocking = [
            key
            for key, blocks in (
                ("forceDestroyBucket", not self.force_destroy_bucket),
                ("dynamodb.deletionProtection", self.dynamodb.deletion_protection),
            )
            if blocks
        ]
        if blocking:
            raise ValueError(
                f"protect is false but {' and '.join(blocking)} would stop `pulumi destroy` halfway: set "
                "forceDestroyBucket true and dynamodb.deletionProtection false, or protect true"
            )

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
        self._network()
        if self.environment == "review":  # the review identity cannot grant EXECUTE TASK: nothing could resume
            switches = {
                "ingestion.taskEnabled": self.ingestion.task_enabled,
                "recommendations.tasksEnabled": self.recommendations.tasks_enabled,
                "analytics.tasksEnabled": self.analytics.tasks_enabled,
                "cdc.taskEnabled": self.cdc.task_enabled,
                "operations.enabled": self.operations.enabled,
            }
            started = [k for k, on in switches.items() if on]
            if started:
                raise ValueError(f"{', '.join(started)} must be false in a review stack (no EXECUTE TASK, ALERT there)")
            if self.serving_refresh.enabled:
                raise ValueError(
                    "servingRefresh.enabled must be false in a review stack: it has no compute pool or Postgres "
                    "instance to refresh (stacks/platform.py `_serving`)"
                )
        if self.environment == "prod":
            if not self.protect:
                raise ValueError("protect must be true in prod")
            if self.force_destroy_bucket:
                raise ValueError("forceDestroyBucket must be false in prod")
            if not (self.dynamodb.point_in_time_recovery and self.dynamodb.deletion_protection):
                raise ValueError("dynamodb.pointInTimeRecovery and dynamodb.deletionProtection must be true in prod")
            if not self.postgres.high_availability:
                raise ValueError("postgres.highAvailability must be true in prod")
        self._teardown()
        return self
