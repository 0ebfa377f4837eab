"""`python -m scripts.monitor --stack S | --local [--serving-max-age-hours H]`: one table per capability
(tasks' last runs, dynamic tables' lag against their target, the pipe, streams' staleness, the serving
stores' age since their last sync, the API's /health); exit 1 when something is red, 2 when the monitor
cannot read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import closing
from datetime import UTC, datetime

import typer
from rich.table import Table

from infra.config.reader import stack_config
from scripts.core.console import console
from scripts.core.runner import LOCAL, STACK, failures_in_one_line
from scripts.core.target import Target, local_target, stack_target
from scripts.monitor import signals
from services.features import health
from services.features.health import Signal

app = typer.Typer(add_completion=False, help=__doc__)
MAX_AGE = typer.Option(26.0, "--serving-max-age-hours", help="serving older than this is red")
STYLE = {health.OK: "[green]ok[/green]", health.RED: "[bold red]RED[/bold red]", health.NA: "[dim]n/a[/dim]"}


def collect(t: Target, max_age_hours: float) -> list[Signal]:
    """Every signal of one target: the warehouse's (as the TRANSFORMER duty on a stack), then serving's."""
    cfg = stack_config(t.stack)
    with closing(t.connect_snowflake()) as conn:
        cur = conn.cursor()
        if t.local:
            found = signals.local_signals(cur, t.database, cfg)
        else:
            found = signals.stack_signals(cur, t.database, cfg, datetime.now(UTC))
    found += signals.serving_signals(t, max_age_hours * 3600)
    if not t.api_url:
        why = "not running: `make local` starts it" if t.local else "this stack has no apiEndpoint output"
        return [*found, health.unavailable("api", "/health", why)]
    return [*found, signals.api_signal(t.api_url, os.environ.get(signals.API_TOKEN))]


def render(found: Iterable[Signal]) -> None:
    """One rich table per capability, in the order the signals came."""
    by_cap: dict[str, list[Signal]] = {}
    for s in found:
        by_cap.setdefault(s.capability, []).append(s)
    for cap, rows in by_cap.items():
        table = Table(title=cap, title_justify="left")
        for column in ("object", "reading", "status"):
            table.add_column(column)
        for s in rows:
            table.add_row(s.name, s.detail, STYLE[s.status])
        console.print(table)


@app.command()
def main(stack: str = STACK, local: bool = LOCAL, serving_max_age_hours: float = MAX_AGE) -> None:
    """Print the monitor's tables; exit 1 when any signal is red."""
    with failures_in_one_line(code=2):
        target = local_target(stack) if local else stack_target(stack)
        found = collect(target, serving_max_age_hours)
    render(found)
    red = [s for s in found if s.status == health.RED]
    console.print(f"[bold red]{len(red)} red[/bold red]" if red else "[green]all green[/green]")
    raise typer.Exit(health.exit_code(found))


if __name__ == "__main__":
    app()
