"""The dbt layer's names, with no Pulumi import so the runner (scripts/ingestion/dbt.py) and the component
(infra/ingestion/dbt.py) share them: its project, its own schemas, the role that builds there, and who logs
in with it (the stack's transformer service user, on the transform warehouse).

dbt issues DDL (CREATE TABLE, CREATE VIEW, the snapshot's temporary table), which no service role of the
platform holds; so dbt builds only in schemas of its own, as a duty role of its own that owns what it
builds there and may read nothing but its sources."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.foundation.catalog import warehouse_name
from infra.ingestion.catalog import CATALOG
from infra.naming import Naming

PROJECT_DIR = Path(__file__).resolve().parents[2] / "sql" / "ingestion" / "dbt"
# The schemas dbt builds in (dbt_project.yml's +schema), and what each holds.
SCHEMAS: dict[str, str] = {
    "DBT_SILVER": "dbt's silver customers and their SCD2 snapshot (built by the DBT role)",
    "DBT_GOLD": "dbt's analyst-facing customer views (built by the DBT role)",
}
# What each schema's objects are created as: dbt's materializations there (dbt_project.yml, snapshots/).
CREATES: dict[str, tuple[str, ...]] = {"DBT_SILVER": ("CREATE TABLE",), "DBT_GOLD": ("CREATE VIEW",)}
# The ingestion objects the project declares as `sources` (models/sources.yml): read-only to dbt.
SOURCE_KEYS = ("bronze", "silver")
# Who reads what dbt built: the analysts, as for SILVER and GOLD.
READERS = ("ANALYST",)


@dataclass(frozen=True)
class DbtIdentity:
    """The session dbt opens on a stack: the transformer service user, with the DBT role only."""

    user: str
    role: str
    warehouse: str
    database: str


def identity(naming: Naming) -> DbtIdentity:
    """`RDP_DEV_SVC_TRANSFORMER` as `RDP_DEV_DBT` on `RDP_DEV_TRANSFORM_WH` in `RDP_DEV_RETAIL`."""
    return DbtIdentity(
        user=naming.sf("SVC", "transformer"),
        role=naming.sf("DBT"),
        warehouse=warehouse_name(naming, "transform"),
        database=naming.database,
    )


def sources(database: str) -> dict[str, str]:
    """Source key → its quoted, fully qualified name."""
    return {key: CATALOG.fq(database, key) for key in SOURCE_KEYS}
