"""Synthetic data generation at the reference scale (50,000 customers), with the UDTF handler file."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from infra.config import stack_config
from scripts.recommendations.synthetic import generate


def bench_generation() -> dict[str, float]:
    """Seed scale: 2,000 products, 500 stores, 50,000 customers, their events, 5 regions of inventory."""
    with tempfile.TemporaryDirectory(prefix="rdp-bench-gen-") as tmp:
        t0 = time.perf_counter()
        counts = generate(
            Path(tmp), stack_config("dev").recommendations.scale.updated(customers=50_000), workers=os.cpu_count() or 2
        )
        gen_s = time.perf_counter() - t0
    return {
        "customers": counts["CUSTOMERS"],
        "events": counts["EVENT_STREAM"],
        "inventory rows": counts["INVENTORY"],
        "generation s (goal <= 90)": gen_s,
        "events/s": counts["EVENT_STREAM"] / gen_s,
    }
