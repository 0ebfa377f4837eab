"""`make local`: bring up the stand-ins and rehearse the platform's data path on them, capability by
capability (each one's `rehearse` in scripts/<capability>/rehearsal.py), then print the offline plan.

The same names and SQL files the Pulumi program deploys are used here, so what runs locally is what
a stack runs in Snowflake and AWS.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from infra.config.reader import stack_config
from scripts import standins
from scripts.core import CAPABILITIES
from scripts.core.connections import connect_local, ensure_foundation
from scripts.core.console import console
from scripts.core.errors import LoadError
from scripts.core.rehearsal import LocalRun, run_cli
from scripts.core.target import ROOT

app = typer.Typer(add_completion=False, help=__doc__)


def create_foundation(ep: standins.Endpoints, stack: str = "dev") -> list[str]:
    """The database and layer schemas of the stack, created on the fakesnow endpoint."""
    with connect_local(ep.snowflake_host, ep.snowflake_port) as conn:
        return ensure_foundation(conn.cursor(), stack_config(stack).naming.database)


def rehearse_all(run: LocalRun) -> None:
    """Each capability's rehearsal, in the one order of CAPABILITIES."""
    for capability in CAPABILITIES:
        rehearsal = importlib.import_module(f"scripts.{capability}.rehearsal")
        console.rule(rehearsal.TITLE)
        rehearsal.rehearse(run)
        if capability == "ingestion":
            rehearse_dbt(run)


def rehearse_dbt(run: LocalRun) -> None:
    """Ingestion's dbt layer on what its rehearsal loaded: `dbt build` on the stand-in, its nodes printed."""
    console.rule("ingestion: dbt build (silver model, customer snapshot, gold view, their tests)")
    run_cli("ingestion", "dbt", "--local", "--stack", run.stack)


def print_plan(stack: str) -> None:
    """The offline plan's summary, from its own process (the scripts import no Pulumi module)."""
    cmd = [sys.executable, "-m", "infra.plan", "--stack", stack, "--format", "summary"]
    if subprocess.run(cmd, cwd=ROOT, check=False).returncode:
        raise LoadError(f"the offline plan of stack {stack!r} failed: run `{' '.join(cmd[1:])}` to see why")


@app.command()
@standins.exits_in_one_line
def main(
    stack: str = typer.Option("dev", help="whose names to use on the stand-ins"),
    customers: int = typer.Option(5000, help="customers to generate (the reference scale is 50,000)"),
    api_port: int = typer.Option(8000, help="port of the recommendation API on 127.0.0.1"),
    dashboard_port: int = typer.Option(8501, help="port of the analytics dashboard on 127.0.0.1"),
) -> None:
    """Start the stand-ins, rehearse every capability on them, print the offline plan."""
    console.rule("stand-ins")
    ep = standins.start()
    console.rule("Snowflake foundation on fakesnow")
    for fq in create_foundation(ep, stack):
        console.print(f"  schema {fq}")
    try:
        rehearse_all(LocalRun(stack, ep, customers, {"api": api_port, "dashboard": dashboard_port}))
        console.rule(f"offline plan of stack {stack}")
        print_plan(stack)
    except LoadError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    console.rule("endpoints (still running; `make stop` ends them)")
    for k, v in ep.as_env().items():
        console.print(f"  {k}={v}")


if __name__ == "__main__":
    app()
