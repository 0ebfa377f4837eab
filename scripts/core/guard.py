"""Synthetic data never reaches a prod stack: the one guard every generating step calls."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer
from rich.console import Console

from infra.config.base import is_prod_stack

FIRST_FILL = typer.Option(
    False, "--first-fill", help="allow synthetic data into an EMPTY prod stack, once (logged); refused otherwise"
)
log = logging.getLogger("scripts.guard")
FILL_ONCE = ("generate",)  # the steps that may fill an empty prod stack once; changes and CDC events never


class ProdDataError(ValueError):
    """Synthetic data was about to reach a prod stack; the message says why it was refused."""


def guard_synthetic(stack: str, local: bool, what: str, first_fill: bool, is_empty: Callable[[], bool]) -> None:
    """Synthetic data never reaches a prod stack (prod by name, or by its config's environment), except
    as the explicit first fill of an empty one by `generate`, which is logged. The stand-ins are never prod."""
    if local or not (is_prod_stack(stack) or configured_prod(stack)):
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


def configured_prod(stack: str) -> bool:
    """A stack whose config says it is prod, whatever its name (an unreadable config is not)."""
    from infra.config.reader import ConfigError, stack_config

    try:
        return stack_config(stack).environment == "prod"
    except ConfigError:
        return False
