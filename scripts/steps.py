"""How the post-deploy CLIs run their steps: on a deployed stack or on the stand-in (prepared first),
each result shown as it comes, and any failure one error line and exit 1."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

import typer
from rich.console import Console

from infra.config.base import is_prod_stack
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
    synthetic: tuple[str, bool] | None = None,
) -> None:
    """`loads` gives the target (`local_target`, `stack_target`) and prepares the stand-in (`prepare_local`).
    `synthetic` = (what, --first-fill) for steps that write synthetic data: refused for a prod stack
    before anything is reached (the emptiness of a first fill is checked by the step itself)."""
    try:
        if synthetic and not synthetic[1]:
            guard_synthetic(stack, local, synthetic[0], False, lambda: True)
        target = loads.local_target(stack) if local else loads.stack_target(stack)
        if local:
            loads.prepare_local(target)
        for title, step in steps:
            show(title, step(target))
    except (*errors, StandInError, ValueError) as e:  # ProdDataError is a ValueError
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None


FIRST_FILL = typer.Option(
    False, "--first-fill", help="allow synthetic data into an EMPTY prod stack, once (logged); refused otherwise"
)
log = logging.getLogger("scripts.guard")


class ProdDataError(ValueError):
    """Synthetic data was about to reach a prod stack; the message says why it was refused."""


FILL_ONCE = ("generate",)  # the steps that may fill an empty prod stack once; changes and CDC events never


def guard_synthetic(stack: str, local: bool, what: str, first_fill: bool, is_empty: Callable[[], bool]) -> None:
    """Synthetic data never reaches a prod stack (prod by name, or by its config's environment), except
    as the explicit first fill of an empty one by `generate`, which is logged. The stand-ins are never prod."""
    if local or not (is_prod_stack(stack) or _configured_prod(stack)):
        return
    if not first_fill or what not in FILL_ONCE:
        hint = " For the one first fill of an empty prod stack pass --first-fill." if what in FILL_ONCE else ""
        raise ProdDataError(
            f"{what}: refusing to write synthetic data into prod stack {stack!r}; prod takes real data.{hint}"
        )
    if not is_empty():
        raise ProdDataError(f"{what}: --first-fill is only for an empty stack, and {stack!r} already holds data")
    log.warning("%s: FIRST FILL of prod stack %r with synthetic data (--first-fill)", what, stack)
    Console(stderr=True).print(f"[yellow]warning:[/yellow] {what}: first fill of prod stack {stack!r} (--first-fill)")


def _configured_prod(stack: str) -> bool:
    from infra.config.reader import ConfigError, stack_config

    try:
        return stack_config(stack).environment == "prod"
    except ConfigError:
        return False
