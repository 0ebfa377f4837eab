"""The analytics dashboard's config: its title and which of the stack's warehouses runs its queries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import ConfigModel


class DashboardConfig(ConfigModel):
    """Streamlit in Snowflake app over GOLD; viewers need only the ANALYST role."""

    title: str = Field(default="Retail analytics", min_length=1, max_length=100, pattern=r"^[^'\\]+$")
    warehouse: Literal["load", "transform", "serve"] = "serve"
