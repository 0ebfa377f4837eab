"""`make local`: bring up the stand-ins and rehearse the platform's data path on them.

The same names and SQL files the Pulumi program deploys are used here, so what runs locally is what
a stack runs in Snowflake and AWS.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from infra.foundation import SCHEMAS
from scripts import localenv
from scripts.snowconn import connect_local
from scripts.stackcfg import stack_naming

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)


def create_foundation(ep: localenv.Endpoints, stack: str = "dev") -> list[str]:
    """The database and layer schemas of the stack, created on the fakesnow endpoint."""
    naming = stack_naming(stack)
    created = []
    with connect_local(ep.snowflake_host, ep.snowflake_port) as conn:
        cur = conn.cursor()
        cur.execute(f'CREATE DATABASE IF NOT EXISTS "{naming.database}"')
        for schema in SCHEMAS:
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{naming.database}"."{schema}"')
            created.append(f"{naming.database}.{schema}")
    return created


@app.command()
def main(stack: str = typer.Option("dev", help="whose names to use on the stand-ins")) -> None:
    from infra.plan import run_plan, summary

    console.rule("stand-ins")
    ep = localenv.start()
    console.rule("Snowflake foundation on fakesnow")
    for fq in create_foundation(ep, stack):
        console.print(f"  schema {fq}")
    console.rule(f"offline plan of stack {stack}")
    counts = summary(run_plan(stack))
    table = Table("resources", "type")
    for typ, n in counts.items():
        table.add_row(str(n), typ)
    table.add_row(str(sum(counts.values())), "total")
    console.print(table)
    console.rule("endpoints (still running; `make stop` ends them)")
    for k, v in ep.as_env().items():
        console.print(f"  {k}={v}")


if __name__ == "__main__":
    app()
