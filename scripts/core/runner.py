"""How every capability's CLI runs its steps: on a deployed stack or on the stand-in (prepared first),
each result shown as it comes, and any failure one error line and exit 1."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import typer

from scripts.core.console import console
from scripts.core.errors import LoadError
from scripts.core.guard import guard_synthetic
from scripts.standins import StandInError

STACK = typer.Option("dev", help="stack whose names/outputs to use")
LOCAL = typer.Option(False, "--local", help="run on the local stand-ins instead of the deployed stack")
IN_SERVICE = typer.Option(
    False, "--in-service", help="run inside a Snowpark Container Services job: its OAuth token and the spec's env"
)
Step = tuple[str, Callable[[Any], Any]]


class Loads(Protocol):
    """What a capability's loads module gives the runner."""

    def local_target(self, stack: str) -> Any: ...

    def stack_target(self, stack: str) -> Any: ...

    def service_target(self, stack: str) -> Any: ...

    def prepare_local(self, target: Any) -> None: ...


def quiet(title: str, result: Any) -> None:
    """For steps that print their own results."""


@contextmanager
def failures_in_one_line(*errors: type[Exception], code: int = 1) -> Iterator[None]:
    """A LoadError, a stand-in error, bad input (or one of `errors`) ends the CLI in one line and `code`."""
    try:
        yield
    except (LoadError, StandInError, ValueError, *errors) as e:  # ProdDataError is a ValueError
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(code) from None


def run_steps(
    loads: Loads,
    stack: str,
    local: bool,
    steps: Sequence[Step],
    *,
    show: Callable[[str, Any], None] = quiet,
    synthetic: str | None = None,
    first_fill: bool = False,
    adjust: Callable[[Any], None] | None = None,
    in_service: bool = False,
) -> None:
    """Build the target (`adjust` may change it, e.g. a scale override), prepare the stand-in when
    `local`, run `steps` in order and `show` each result. Steps that write synthetic data name it in
    `synthetic`: refused for a prod stack before anything is reached unless `first_fill` (whose
    emptiness check is the step's own). `in_service`: the target inside a job service (the scheduled
    refresh). A LoadError, a stand-in error or bad input ends in one line."""
    with failures_in_one_line():
        if synthetic and not first_fill:
            guard_synthetic(stack, local, synthetic, False, lambda: True)
        if local and in_service:
            raise LoadError("--local and --in-service exclude each other")
        if in_service:
            target = loads.service_target(stack)
        else:
            target = loads.local_target(stack) if local else loads.stack_target(stack)
        if adjust:
            adjust(target)
        if local:
            loads.prepare_local(target)
        for title, step in steps:
            show(title, step(target))
