"""The serving stores' config: the Snowflake Postgres instance with its serving schema, and DynamoDB."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import ConfigModel

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


class PostgresConfig(ConfigModel):
    """The Snowflake Postgres instance and its serving schema. Ingress CIDRs are `allowedCidrs`."""

    compute_family: PgComputeFamily
    storage_gb: int = Field(ge=10, le=65_535)
    version: Literal[16, 17, 18]
    high_availability: bool
    database: str = Field(default="postgres", pattern=r"^[a-z_][a-z0-9_]*$")
    serving_schema: str = Field(default="serving", pattern=r"^[a-z_][a-z0-9_]*$")
    credential_rotation: int = Field(default=1, ge=1)


class DynamoDbConfig(ConfigModel):
    point_in_time_recovery: bool
    deletion_protection: bool
