"""Ingestion's config: where each feed's files land, how long they are kept, and the transform tasks.

The customer feed's keys sit at the top (`landingPrefix`, `taskSchedule`: released before the other
feeds); the sales and inventory feeds each have their own prefix and schedule under `feeds`. The time
zone, the switch, the size limit and the expiry windows are shared."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import ConfigModel, Cron, TimeZone

REJECTED_PREFIX = "rejected/"  # the bucket's quarantine (infra/ingestion/catalog.py): no feed lands there
_PREFIX = r"^[a-z0-9][a-z0-9/_-]*/$"


class FeedConfig(ConfigModel):
    """One feed's own settings: its landing prefix (its pipe reads only there) and its task's cron."""

    landing_prefix: str = Field(pattern=_PREFIX)
    task_schedule: Cron


class FeedsConfig(ConfigModel):
    sales: FeedConfig
    inventory: FeedConfig


class IngestionConfig(ConfigModel):
    landing_prefix: str = Field(pattern=_PREFIX)
    task_schedule: Cron
    task_timezone: TimeZone
    task_enabled: bool
    max_file_mb: int = Field(gt=0, le=5000)
    processed_expiry_days: int = Field(gt=0, le=3650)
    rejected_expiry_days: int = Field(gt=0, le=3650)
    feeds: FeedsConfig

    def feed(self, key: str) -> FeedConfig:
        """The settings of feed `key` (customer, sales, inventory)."""
        if key == "customer":
            return FeedConfig(landing_prefix=self.landing_prefix, task_schedule=self.task_schedule)
        return getattr(self.feeds, key)

    def prefix_keys(self) -> dict[str, str]:
        """Each feed's landing prefix by the config key that sets it."""
        keys = {"landingPrefix": self.landing_prefix}
        for key in FeedsConfig.model_fields:
            keys[f"feeds.{key}.landingPrefix"] = getattr(self.feeds, key).landing_prefix
        return keys

    @model_validator(mode="after")
    def _separate_prefixes(self) -> IngestionConfig:
        """Each pipe reads its own prefix only: S3 refuses overlapping notification prefixes, and a file
        under two prefixes would land in two feeds. The rejected files' prefix is no feed's."""
        items = list(self.prefix_keys().items())
        for i, (key, prefix) in enumerate(items):
            if prefix.startswith(REJECTED_PREFIX):
                raise ValueError(f"{key} {prefix} is under {REJECTED_PREFIX}, where rejected files are kept")
            for other, theirs in items[i + 1 :]:
                if prefix.startswith(theirs) or theirs.startswith(prefix):
                    raise ValueError(f"{key} {prefix} and {other} {theirs} overlap: each feed needs its own prefix")
        return self
