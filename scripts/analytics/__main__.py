"""`python -m scripts.analytics all|generate|changes|run|counts --stack S | --local`: the analytics
pipeline's post-deploy steps, one at a time or all (generate → run → changes → run)."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.table import Table

from scripts.analytics import loads
from scripts.core.console import console, print_counts
from scripts.core.guard import FIRST_FILL
from scripts.core.runner import LOCAL, STACK, Step, run_steps

app = typer.Typer(add_completion=False, help=__doc__)
REPLACE = typer.Option(False, help="empty the sources first (their history is added once otherwise)")


def show(title: str, result: Any) -> None:
    """Rows per table, or the task runs of the graph."""
    if isinstance(result, dict):
        print_counts(result, title)
    elif isinstance(result, list):
        table = Table("task", "state", "reason", "seconds", title=title)
        for r in result:
            table.add_row(r.task, r.state, r.reason, f"{r.seconds:.2f}")
        console.print(table)


@app.command("all")
def all_cmd(stack: str = STACK, local: bool = LOCAL, replace: bool = REPLACE) -> None:
    """generate → run → changes → run (synthetic: refused on a prod stack)."""
    steps: list[Step] = [
        ("generated", lambda t: loads.generate(t, replace)),
        ("task graph", loads.run),
        ("a day of changes", loads.changes),
        ("task graph", loads.run),
        ("rows per layer", loads.counts),
    ]
    run_steps(loads, stack, local, steps, show=show, synthetic="generate")


@app.command("generate")
def generate_cmd(
    stack: str = STACK, local: bool = LOCAL, replace: bool = REPLACE, first_fill: bool = FIRST_FILL
) -> None:
    """The sources' history (refused if the sources hold rows, unless --replace; on prod, but --first-fill)."""
    step = ("generated", lambda t: loads.generate(t, replace, first_fill))
    run_steps(loads, stack, local, [step], show=show, synthetic="generate", first_fill=first_fill)


@app.command("changes")
def changes_cmd(stack: str = STACK, local: bool = LOCAL, day: str = typer.Option(None, help="YYYY-MM-DD")) -> None:
    """A day of changes (default: the configured AS_OF day)."""
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        raise typer.BadParameter(f"--day must be a date as YYYY-MM-DD, not {day!r}") from None
    run_steps(
        loads, stack, local, [("a day of changes", lambda t: loads.changes(t, when))], show=show, synthetic="changes"
    )


@app.command("run")
def run_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """The task graph and the dynamic tables, now."""
    run_steps(loads, stack, local, [("task graph", loads.run)], show=show)


@app.command("counts")
def counts_cmd(stack: str = STACK) -> None:
    """Rows per layer on the stand-in."""
    run_steps(loads, stack, True, [("rows per layer", loads.counts)], show=show)


if __name__ == "__main__":
    app()
