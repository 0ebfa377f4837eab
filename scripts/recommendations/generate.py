"""Synthetic data generation on the local path, with the UDTFs' own handler code (sql/recommendations/udtf/).

fakesnow has no Python UDTFs, so the local path runs the same handler classes in Python, in parallel
worker processes, writes Parquet, and bulk-loads it through DuckDB's read_parquet. Row for row this is
what `generate_in_warehouse.sql` produces in Snowflake for the same seed and AS_OF date.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, time
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq

from infra.recommendations import catalog
from infra.recommendations.config import ScaleConfig
from infra.sqlfiles import load_module

_PA_TYPES = {
    "VARCHAR": pa.string(),
    "FLOAT": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP_NTZ": pa.timestamp("us"),
}


def load_generators() -> ModuleType:
    """Import the UDTF handler file itself, so local and Snowflake run the same code."""
    return load_module(catalog.GENERATORS_FILE)


def customer_seeds(scale: ScaleConfig) -> range:
    """The SEED each GENERATE_RETAIL_CUSTOMER call gets (SEQ4() + seed * 10,000,000 in Snowflake)."""
    base = scale.seed * 10_000_000
    return range(base, base + scale.customers)


def arrow_table(cols: catalog.Cols, rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in cols]
    arrays = []
    for (_name, typ), values in zip(cols, columns, strict=True):
        pa_type = _PA_TYPES.get(typ, pa.int64() if typ.startswith("NUMBER(38,0)") or typ == "NUMBER" else pa.float64())
        arrays.append(pa.array(values, type=pa_type))
    return pa.Table.from_arrays(arrays, names=[c for c, _ in cols])


def _write(path: Path, cols: catalog.Cols, rows: list[tuple]) -> int:
    pq.write_table(arrow_table(cols, rows), path, compression="zstd")
    return len(rows)


def _customers_chunk(args: tuple[list[int], int, int, str, str]) -> tuple[int, int]:
    seeds, n_products, seed, as_of, out = args
    gen = load_generators()
    cg, eg = gen.CustomerGenerator(), gen.EventGenerator()
    customers: list[tuple] = []
    events: list[tuple] = []
    for s in seeds:
        for c in cg.process(s, as_of):
            customers.append(c)
            events.extend(eg.process(c[0], c[13], c[10], c[12], n_products, seed, as_of))
    tag = f"{seeds[0]:09d}"
    _write(Path(out) / f"CUSTOMERS-{tag}.parquet", catalog.CUSTOMERS, customers)
    _write(Path(out) / f"EVENT_STREAM-{tag}.parquet", catalog.EVENT_STREAM, events)
    return len(customers), len(events)


def generate(
    out_dir: Path, scale: ScaleConfig, workers: int = 2, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write every generated table as Parquet under out_dir (one directory per table); return row counts."""
    gen = load_generators()
    for t in ("STORES", "PRODUCT_CATALOG", "INVENTORY", "CUSTOMERS", "EVENT_STREAM"):
        d = out_dir / t
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.parquet"):
            old.unlink()
    counts: dict[str, int] = {}
    sg, pg, ig = gen.StoreGenerator(), gen.ProductGenerator(), gen.InventoryGenerator()
    stores = [r for i in range(scale.stores) for r in sg.process(i)]
    products = [r for i in range(scale.products) for r in pg.process(i)]
    stamp = datetime.combine(scale.as_of, time())  # INVENTORY.LAST_UPDATED, as the in-warehouse step stamps it
    inventory = [(*r, stamp) for p in products for r in ig.process(p[0], scale.seed)]
    counts["STORES"] = _write(out_dir / "STORES" / "part-0.parquet", catalog.STORES, stores)
    counts["PRODUCT_CATALOG"] = _write(
        out_dir / "PRODUCT_CATALOG" / "part-0.parquet", catalog.PRODUCT_CATALOG, products
    )
    counts["INVENTORY"] = _write(out_dir / "INVENTORY" / "part-0.parquet", catalog.INVENTORY, inventory)
    seeds = list(customer_seeds(scale))
    chunk = max(500, min(5000, len(seeds) // (workers * 4) or 1))
    jobs = [
        (seeds[i : i + chunk], scale.products, scale.seed, scale.as_of.isoformat(), str(out_dir / "_chunks"))
        for i in range(0, len(seeds), chunk)
    ]
    (out_dir / "_chunks").mkdir(exist_ok=True)
    for old in (out_dir / "_chunks").glob("*.parquet"):
        old.unlink()
    n_customers = n_events = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for c, e in pool.map(_customers_chunk, jobs):
            n_customers += c
            n_events += e
            if progress:
                progress(c)
    for f in (out_dir / "_chunks").glob("*.parquet"):
        table = f.name.rsplit("-", 1)[0]
        f.rename(out_dir / table / f.name)
    counts["CUSTOMERS"] = n_customers
    counts["EVENT_STREAM"] = n_events
    return counts
