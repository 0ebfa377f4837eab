"""The recommendations data plane's config: CUSTOMER_360's lag, the refresh and propensity schedules, and
the synthetic data volume of the post-deploy `generate` step."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from infra.config.base import ConfigModel, Cron, Lag, TimeZone


class ScaleConfig(ConfigModel):
    """Synthetic data volume of the post-deploy `generate` step (the reference scale by default)."""

    products: int = Field(default=2000, ge=12, le=1_000_000)
    stores: int = Field(default=500, ge=1, le=100_000)
    customers: int = Field(default=50_000, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0, le=99)
    as_of: date


class RecommendationsConfig(ConfigModel):
    customer360_target_lag: Lag
    refresh_schedule: Cron
    propensity_schedule: Cron
    task_timezone: TimeZone
    tasks_enabled: bool
    scale: ScaleConfig
