"""The dashboard's queries over the stand-in's GOLD tables at `make local`'s scale: the analytics
pipeline's history and a day of changes, and a few seconds of order changes for the CDC view, loaded
as an operator does; then every query in sql/dashboard/ timed over the whole date range, as the page
runs it when it opens."""

from __future__ import annotations

import re
import time
from statistics import median
from typing import Any

from infra.config.reader import stack_config
from infra.dashboard.bundle import SQL_DIR
from infra.naming import quote
from scripts import standins
from scripts.core.connections import connect_standin
from scripts.core.rehearsal import run_cli

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def bench(rounds: int = 5) -> dict[str, dict]:
    """Each query's median time over `rounds` runs and its rows; goal: the page's queries together
    well under a second."""
    standins.start()
    stack = "dev"
    run_cli("analytics", "all", "--local", "--replace", "--stack", stack)
    run_cli("cdc", "all", "--local", "--duration", "1.5", "--stack", stack)
    database = stack_config(stack).naming.database
    with connect_standin(database) as conn:
        cur = conn.cursor()
        cur.execute(render("bounds", {"db": quote(database)}))
        first, last, days = cur.fetchone()
        if first is None:
            raise RuntimeError("the analytics pipeline left DAILY_SALES_SUMMARY empty: nothing to query")
        params = {"db": quote(database), "start": f"'{str(first)[:10]}'::DATE", "end": f"'{str(last)[:10]}'::DATE"}
        figures: dict[str, Any] = {"days with sales": days}
        total = 0.0
        for name in sorted(p.stem for p in SQL_DIR.glob("*.sql")):
            seconds, rows = timed(cur, render(name, params), rounds)
            figures[f"{name} ms (median of {rounds}; {rows:,} rows)"] = seconds * 1000
            total += seconds
        figures["every query once, ms (the page opening)"] = total * 1000
    return {"dashboard queries on the stand-in's GOLD tables": figures}


def render(name: str, params: dict[str, str]) -> str:
    """sql/dashboard/<name>.sql with its placeholders filled (a placeholder not given is an error)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    missing = sorted(set(PLACEHOLDER.findall(text)) - params.keys())
    if missing:
        raise KeyError(f"sql/dashboard/{name}.sql: no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: params[m.group(1)], text)


def timed(cur: Any, sql: str, rounds: int) -> tuple[float, int]:
    """The median seconds of `rounds` runs of `sql` with its rows fetched, and how many rows it gave."""
    times, rows = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        cur.execute(sql)
        rows = len(cur.fetchall())
        times.append(time.perf_counter() - t0)
    return median(times), rows
