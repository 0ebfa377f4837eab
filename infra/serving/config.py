"""The serving stores' config: the Snowflake Postgres instance with its serving schema, DynamoDB, and
the scheduled refresh that keeps them current (`servingRefresh`).
The sync's and the export's guards against an empty or shrunk load (`postgres.sync`,
`dynamodb.maxDeleteShare`) are read by scripts/serving only; no resource depends on them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from infra.config.base import ConfigModel, Cron, TimeZone
from infra.foundation.config import cidr_list

PgComputeFamily = Literal[
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
# The Postgres serving tables (their columns are the migrations'), here as the config names them (the
# sync's floors) and scripts/serving reads them from here (infra/serving/catalog.py reaches Pulumi).
SERVING_TABLES = (
    "customer_features",
    "customer_propensity",
    "inventory",
    "products",
    "customer_profiles",
    "product_popularity",
    "customer_product_interactions",
    "customer_candidates",
    "customer_rankings",
)
# Computed by the sync from the others once they are live (scripts/serving/rankings.py): derived, so
# no floor or shrink guard (empty only means the API ranks each request itself).
DERIVED_TABLES = ("customer_rankings",)
# What the sync writes warehouse → Postgres (customer_profiles is the export's), live together.
SYNCED_TABLES = tuple(t for t in SERVING_TABLES if t not in ("customer_profiles", *DERIVED_TABLES))
Share = Annotated[float, Field(ge=0, le=1)]
# A serving table not named in `postgres.sync.minRows` may not go live with fewer rows than this.
DEFAULT_MIN_ROWS = 1


class SyncGuardConfig(ConfigModel):
    """What a sync may put live: at least `minRows[table]` rows (DEFAULT_MIN_ROWS for a table not
    listed), and no fewer than (1 − maxShrink) × the live table's rows. `--allow-shrink` overrides."""

    min_rows: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    max_shrink: Share = 0.5

    @field_validator("min_rows")
    @classmethod
    def _known_tables(cls, value: dict[str, int]) -> dict[str, int]:
        guarded = [t for t in SERVING_TABLES if t not in DERIVED_TABLES]
        unknown = sorted(set(value) - set(guarded))
        if unknown:
            raise ValueError(f"unknown or unguarded serving table(s) {', '.join(unknown)}; known: {', '.join(guarded)}")
        return value

    def floor(self, table: str) -> int:
        """The fewest rows `table` may go live with."""
        return self.min_rows.get(table, DEFAULT_MIN_ROWS)


class PostgresConfig(ConfigModel):
    """The Snowflake Postgres instance and its serving schema. Who may connect (the instance's ingress
    rule) is `allowedCidrs`, `ci.runnerCidrs` (the postgresql provider runs on CI's runners) and
    `spcsEgressCidrs` (StackConfig.postgres_ingress_cidrs)."""

    compute_family: PgComputeFamily
    storage_gb: int = Field(ge=10, le=65_535)
    version: Literal[16, 17, 18]
    high_availability: bool
    database: str = Field(default="postgres", pattern=r"^[a-z_][a-z0-9_]*$")
    serving_schema: str = Field(default="serving", pattern=r"^[a-z_][a-z0-9_]*$")
    credential_rotation: int = Field(default=1, ge=1)
    # Where the API's containers reach the instance from: Snowflake's egress ranges for Snowpark Container
    # Services external access in the account's region, which `SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES()`
    # lists with an expiry for each (refresh them before it; see the README). Required: the API always runs.
    spcs_egress_cidrs: list[str] = Field(min_length=1)
    sync: SyncGuardConfig = SyncGuardConfig()

    @field_validator("spcs_egress_cidrs")
    @classmethod
    def _spcs(cls, value: list[str]) -> list[str]:
        return cidr_list(value)


# An IAM role or user the website runs as: who may assume the table's reader role.
IamPrincipalArn = Annotated[str, Field(pattern=r"^arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")]


class DynamoDbConfig(ConfigModel):
    point_in_time_recovery: bool
    deletion_protection: bool
    # The largest share of the live items one export may delete (users no longer recommended).
    max_delete_share: Share = 0.2
    # Who may assume the website's reader role (GetItem/Query on the table only): the website's own
    # IAM identities. Empty: the stack's account, whose admins then grant sts:AssumeRole on the role.
    reader_principals: list[IamPrincipalArn] = Field(default_factory=list)


class RefreshConfig(ConfigModel):
    """The scheduled refresh of the serving stores (`servingRefresh`): a task on `schedule` (cron in
    `timezone`) runs the refresh image as a job service on the API's compute pool: the models are
    retrained when the published one is `trainEveryDays` old or older, then sync and export. The task is
    declared in every stack with a pool (dev, prod) and resumed only when `enabled`; a review stack has
    neither a pool nor Postgres, so it may not enable it (StackConfig checks)."""

    enabled: bool = False
    schedule: Cron = "0 5 * * *"
    timezone: TimeZone = "UTC"
    train_every_days: int = Field(default=7, ge=1, le=365)
    # the task's run ends the job if it takes longer (Snowflake's USER_TASK_TIMEOUT_MS)
    timeout_minutes: int = Field(default=120, ge=5, le=1440)
    cpu: float = Field(default=1, gt=0, le=64)
    memory: str = Field(default="4Gi", pattern=r"^\d+(Mi|Gi|M|G)$")
