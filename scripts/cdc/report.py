"""How the CDC steps report: one line per run or refresh, a table per query result."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from scripts.cdc.generate import RunReport
from scripts.cdc.rehearsal import Refresh
from scripts.core.console import console


def show(title: str, result: Any) -> None:
    """A run's or a refresh's line, or a table per query result."""
    if isinstance(result, RunReport):
        mix = ", ".join(f"{k.lower()} {v:,}" for k, v in result.by_type.items())
        console.print(
            f"{title}: {result.events:,} changes in {result.batches:,} batches, {result.seconds:.1f} s "
            f"({result.rate:,.0f} events/s; {mix})"
        )
        if result.behind:
            console.print(
                f"[yellow]  behind: the target took {result.rate:,.0f} of the {result.target:,} events/s "
                "asked for; write bigger batches (--burst) or ask for less[/yellow]"
            )
    elif isinstance(result, Refresh):
        console.print(
            f"{title}: {result.mode}, {result.changes_read:,} changes read, {result.orders_recomputed:,} orders "
            f"and {result.groups_recomputed:,} groups recomputed in {result.seconds:.2f} s"
        )
    elif isinstance(result, dict):
        for name, rows in result.items():
            table = Table(*(rows[0] if rows else ["(no rows yet)"]), title=f"{title}: {name}")
            for row in rows:
                table.add_row(*(_cell(k, v) for k, v in row.items()))
            console.print(table)
    else:
        console.print(f"{title}: {result}")


def _cell(column: str, value: Any) -> str:
    plain = isinstance(value, bool) or not isinstance(value, int) or column.endswith(("_YEAR", "_MONTH"))
    return str(value) if plain else f"{value:,}"
