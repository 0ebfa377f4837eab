"""Customer ingestion's config: where files land, how long they are kept, and the nightly transform."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import ConfigModel, Cron, TimeZone


class IngestionConfig(ConfigModel):
    landing_prefix: str = Field(pattern=r"^[a-z0-9][a-z0-9/_-]*/$")
    task_schedule: Cron
    task_timezone: TimeZone
    task_enabled: bool
    max_file_mb: int = Field(gt=0, le=5000)
    processed_expiry_days: int = Field(gt=0, le=3650)
    rejected_expiry_days: int = Field(gt=0, le=3650)
