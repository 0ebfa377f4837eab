"""The order change-data-capture pipeline's config: dynamic-table lags, the refresh task, the generator."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import ConfigModel, Lag


class CdcLags(ConfigModel):
    """Target lags of ORDERS_DERIVED and ORDERS_AGGREGATED (ORDERS_CURRENT, read only by them, is DOWNSTREAM)."""

    orders_derived: Lag
    orders_aggregated: Lag


class CdcMix(ConfigModel):
    """Shares of the change types the generator emits; they add up to 1."""

    insert: float = Field(gt=0, le=1)
    update: float = Field(ge=0, lt=1)
    delete: float = Field(ge=0, lt=1)

    @model_validator(mode="after")
    def _sum(self) -> CdcMix:
        total = self.insert + self.update + self.delete
        if abs(total - 1) > 1e-9:
            raise ValueError(f"insert + update + delete must be 1, not {total:g}")
        return self


class CdcGenerator(ConfigModel):
    """The simulated order system's defaults; the CLI's flags override them per run."""

    rate: int = Field(default=1000, ge=0, le=10_000_000)  # events per second, 0 = as fast as the target takes
    mix: CdcMix = CdcMix(insert=0.7, update=0.25, delete=0.05)
    cancel_share: float = Field(default=0.1, ge=0, le=1)  # of the status moves that could cancel, how many do
    history_days: int = Field(default=0, ge=0, le=3650)  # new orders dated up to N days back (0: now)
    seed: int = Field(default=0, ge=0)


class CdcConfig(ConfigModel):
    """ORDER_CHANGES → ORDERS_CURRENT → ORDERS_DERIVED → ORDERS_AGGREGATED, and the task that refreshes the
    top table on schedule."""

    lags: CdcLags
    refresh_minutes: int = Field(ge=1, le=11_520)
    task_enabled: bool
    generator: CdcGenerator = CdcGenerator()
