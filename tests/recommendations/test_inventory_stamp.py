"""INVENTORY.LAST_UPDATED: when the stock level was taken. Both generate paths stamp the step's AS_OF
(so a rerun with the same seed and AS_OF yields the same rows), the local one checked on its output."""

from __future__ import annotations

from datetime import datetime

import pyarrow.parquet as pq

from infra.recommendations import catalog
from infra.recommendations.config import ScaleConfig
from infra.sqlfiles import read_sql
from scripts.recommendations.generate import generate


def test_the_local_generator_stamps_every_stock_level_with_the_as_of(tmp_path):
    scale = ScaleConfig(products=12, stores=1, customers=3, seed=2, as_of="2026-10-15")
    generate(tmp_path, scale, workers=1)
    table = pq.read_table(tmp_path / "INVENTORY" / "part-0.parquet")
    assert table.column_names == [c for c, _ in catalog.INVENTORY] and table.column_names[-1] == "LAST_UPDATED"
    assert set(table.column("LAST_UPDATED").to_pylist()) == {datetime(2026, 10, 15)}
    assert table.num_rows == 12 * 5  # one row per product and region


def test_the_warehouse_generator_stamps_the_same_column():
    sql = read_sql("recommendations/generate_in_warehouse.sql")
    insert = next(ln for ln in sql.splitlines() if ln.startswith("INSERT INTO {{ inventory }}"))
    assert "SELECT i.*, '{{ as_of }}'::TIMESTAMP_NTZ AS LAST_UPDATED" in insert
    udtf_columns = catalog.UDTFS["GENERATE_INVENTORY"][2]
    assert [*udtf_columns, ("LAST_UPDATED", "TIMESTAMP_NTZ")] == catalog.INVENTORY  # i.* then the stamp
