"""`python -m scripts.analytics all|generate|changes|run|counts --stack S | --local`: the analytics
pipeline's post-deploy steps, one at a time or all (generate → run → changes → run)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from scripts.analytics import loads
from scripts.analytics.loads import AnalyticsError, AnalyticsTarget
from scripts.steps import FIRST_FILL, LOCAL, STACK, run_steps

app = typer.Typer(add_completion=False, help=__doc__)
console = Console()


def show(title: str, result: Any) -> None:
    if isinstance(result, dict):
        table = Table("table", "rows", title=title)
        for k, v in result.items():
            table.add_row(k, f"{v:,}")
        console.print(table)
    elif isinstance(result, list):
        table = Table("task", "state", "reason", "seconds", title=title)
        for r in result:
            table.add_row(r.task, r.state, r.reason, f"{r.seconds:.2f}")
        console.print(table)


def _run(
    stack: str,
    local: bool,
    *steps: tuple[str, Callable[[AnalyticsTarget], Any]],
    synthetic: tuple[str, bool] | None = None,
) -> None:
    run_steps(loads, stack, local, steps, show, (AnalyticsError,), console, synthetic)


@app.command("all")
def all_cmd(stack: str = STACK, local: bool = LOCAL, replace: bool = typer.Option(False)) -> None:
    """generate → run → changes → run (synthetic: refused on a prod stack)."""
    _run(
        stack, local, ("generated", lambda t: loads.generate(t, replace)), ("task graph", loads.run),
        ("a day of changes", loads.changes), ("task graph", loads.run), ("rows per layer", loads.counts),
        synthetic=("generate", False),
    )  # fmt: skip


@app.command("generate")
def generate_cmd(
    stack: str = STACK, local: bool = LOCAL, replace: bool = typer.Option(False), first_fill: bool = FIRST_FILL
) -> None:
    """The sources' history (refused if the sources hold rows, unless --replace; on prod, but --first-fill)."""
    _run(
        stack,
        local,
        ("generated", lambda t: loads.generate(t, replace, first_fill)),
        synthetic=("generate", first_fill),
    )


@app.command("changes")
def changes_cmd(stack: str = STACK, local: bool = LOCAL, day: str = typer.Option(None, help="YYYY-MM-DD")) -> None:
    """A day of changes (default: the configured AS_OF day)."""
    _run(
        stack,
        local,
        ("a day of changes", lambda t: loads.changes(t, date.fromisoformat(day) if day else None)),
        synthetic=("changes", False),
    )


@app.command("run")
def run_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """The task graph and the dynamic tables, now."""
    _run(stack, local, ("task graph", loads.run))


@app.command("counts")
def counts_cmd(stack: str = STACK) -> None:
    """Rows per layer on the stand-in."""
    _run(stack, True, ("rows per layer", loads.counts))


if __name__ == "__main__":
    app()
