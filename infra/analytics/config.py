"""The e-commerce analytics pipeline's config: its task graph's schedule, dynamic-table lags and the
volume of the generated sources."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from infra.config.base import ConfigModel, Cron, Lag, TimeZone


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


class AnalyticsLags(ConfigModel):
    """Target lags of the three dynamic tables the dashboard reads (their shared input is DOWNSTREAM)."""

    enriched_orders: Lag
    product_performance: Lag
    current_inventory: Lag


class AnalyticsConfig(ConfigModel):
    """The e-commerce analytics pipeline: its task graphs' schedules (dimensions → facts on
    `task_schedule`, the summary on `summary_schedule`; infra/analytics/tasks.py), dynamic-table lags
    and data volume."""

    task_schedule: Cron
    summary_schedule: Cron
    task_timezone: TimeZone
    tasks_enabled: bool
    lags: AnalyticsLags
    date_horizon_days: int = Field(default=365, ge=0, le=3650)
    scale: AnalyticsScale
