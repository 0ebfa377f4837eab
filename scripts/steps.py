"""How the post-deploy CLIs run their steps: on a deployed stack or on the stand-in (prepared first),
each result shown as it comes, and any failure one error line and exit 1."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import typer
from rich.console import Console

from scripts.standins import StandInError

STACK = typer.Option("dev", help="stack whose names/outputs to use")
LOCAL = typer.Option(False, "--local", help="run on the local stand-in instead of the deployed stack")


def run_steps(
    loads: ModuleType,
    stack: str,
    local: bool,
    steps: tuple[tuple[str, Callable[[Any], Any]], ...],
    show: Callable[[str, Any], None],
    errors: tuple[type[Exception], ...],
    console: Console,
) -> None:
    """`loads` gives the target (`local_target`, `stack_target`) and prepares the stand-in (`prepare_local`)."""
    try:
        target = loads.local_target(stack) if local else loads.stack_target(stack)
        if local:
            loads.prepare_local(target)
        for title, step in steps:
            show(title, step(target))
    except (*errors, StandInError, ValueError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
