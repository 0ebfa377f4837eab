"""`python -m scripts.recommendations all|generate|build|train|sync|export --stack S | --local`:
the recommendations' post-deploy loads, step by step or all at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from scripts.recommendations import loads
from scripts.recommendations.target import LoadError, Target, console, local_target, stack_target
from scripts.serving import loads as serving
from scripts.standins import StandInError
from scripts.steps import FIRST_FILL, ProdDataError, guard_synthetic

app = typer.Typer(add_completion=False, help=__doc__)


def _target(stack: str, local: bool, customers: int | None, seed: int | None, first_fill: bool = False) -> Target:
    t = local_target(stack) if local else stack_target(stack)
    t.first_fill = first_fill
    changes = {k: v for k, v in (("customers", customers), ("seed", seed)) if v is not None}
    if changes:
        try:
            t.scale = t.scale.updated(**changes)
        except ValueError as e:
            raise LoadError(f"invalid scale override: {e}") from None
    return t


def _run(
    fn: Callable[[Target], Any],
    stack: str,
    local: bool,
    customers: int | None,
    seed: int | None,
    first_fill: bool = False,
) -> None:
    try:
        if fn in (loads.generate, loads.run_all) and not first_fill:  # refused before anything is reached
            guard_synthetic(stack, local, "generate", False, lambda: True)
        t = _target(stack, local, customers, seed, first_fill)
        if local and fn is not loads.run_all:
            loads.prepare_local(t)
        fn(t)
    except (LoadError, StandInError, ProdDataError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None


STACK = typer.Option("dev", help="stack whose names/outputs to use")
LOCAL = typer.Option(False, "--local", help="run on the local stand-ins instead of the deployed stack")
CUSTOMERS = typer.Option(None, help="override recommendations.scale.customers")
SEED = typer.Option(None, help="override recommendations.scale.seed")


@app.command("all")
def all_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    customers: int | None = CUSTOMERS,
    seed: int | None = SEED,
    first_fill: bool = FIRST_FILL,
) -> None:
    """generate → build → train → sync → export (refused on prod: use the single steps, or --first-fill)."""
    _run(loads.run_all, stack, local, customers, seed, first_fill)


@app.command("generate")
def generate_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    customers: int | None = CUSTOMERS,
    seed: int | None = SEED,
    first_fill: bool = FIRST_FILL,
) -> None:
    """Synthetic base tables (never into prod, but for --first-fill of an empty stack)."""
    _run(loads.generate, stack, local, customers, seed, first_fill)


@app.command("build")
def build_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(loads.build, stack, local, None, None)


@app.command("train")
def train_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(loads.train, stack, local, None, None)


@app.command("sync")
def sync_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(serving.sync, stack, local, None, None)


@app.command("export")
def export_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    _run(serving.export, stack, local, None, None)


if __name__ == "__main__":
    app()
