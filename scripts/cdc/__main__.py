"""`python -m scripts.cdc generate|refresh|show|all --stack S | --local`: the order change stream and
the dynamic tables over it."""

from __future__ import annotations

import typer

from scripts.cdc import loads
from scripts.cdc.generate import GeneratorError, RunReport, check
from scripts.cdc.loads import CdcTarget
from scripts.cdc.report import show
from scripts.core.console import console
from scripts.core.runner import LOCAL, STACK, Step, run_steps

app = typer.Typer(add_completion=False, help=__doc__)
RATE = typer.Option(None, help="events per second (0 = as fast as the target takes; default from the stack config)")
BURST = typer.Option(None, help="most events in one batch (default: one second's worth, or 50,000 at rate 0)")
DURATION = typer.Option(None, help="stop after this many seconds")
EVENTS = typer.Option(None, help="stop after this many events")
SEED = typer.Option(None, help="seed of the simulated order system (default from the stack config)")
HISTORY = typer.Option(None, "--history-days", help="date new orders up to N days back (default from config)")


def _run(stack: str, local: bool, *steps: Step, synthetic: bool = False) -> None:
    """The steps through the shared runner (GeneratorError is a ValueError: one line too)."""
    run_steps(loads, stack, local, steps, show=show, synthetic="order changes" if synthetic else None)


def _overrides(seed: int | None, history_days: int | None) -> dict:
    return {k: v for k, v in (("seed", seed), ("history_days", history_days)) if v is not None}


@app.command("generate")
def generate_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    rate: int = RATE,
    burst: int = BURST,
    duration: float = DURATION,
    events: int = EVENTS,
    seed: int = SEED,
    history_days: int = HISTORY,
) -> None:
    """Stream order changes into ORDER_CHANGES at --rate until --duration or --events."""
    try:  # bad options are refused before anything is reached
        check(0 if rate is None else rate, burst, duration, events)
    except GeneratorError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    overrides = _overrides(seed, history_days)

    def step(t: CdcTarget) -> RunReport:
        return loads.generate(t, rate=rate, burst=burst, duration=duration, events=events, overrides=overrides)

    _run(stack, local, ("generated", step), synthetic=True)


@app.command("refresh")
def refresh_cmd(stack: str = STACK, local: bool = LOCAL, full: bool = typer.Option(False, help="rebuild")) -> None:
    """Refresh the dynamic tables now (incrementally; --full rebuilds them on the stand-in)."""
    _run(stack, local, ("refresh", lambda t: loads.refresh(t, full)))


@app.command("show")
def show_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """ORDERS_AGGREGATED and CDC_MONITORING."""
    _run(stack, local, ("cdc", loads.show))


@app.command("all")
def all_cmd(stack: str = STACK, local: bool = LOCAL, duration: float = typer.Option(3.0), rate: int = RATE) -> None:
    """generate → refresh → generate → refresh (incremental) → show."""

    def gen(t: CdcTarget) -> RunReport:
        return loads.generate(t, rate=rate, duration=duration)

    steps: list[Step] = [("generated", gen), ("refresh", loads.refresh)] * 2
    _run(stack, local, *steps, ("cdc", loads.show), synthetic=True)


if __name__ == "__main__":
    app()
