"""`python -m scripts.review smoke --stack pr-<n>`: the loaded review stack answers (exit 1 when a loaded
table is empty). `python -m scripts.review leftovers --stack pr-<n> --expected names.json`: after
`pulumi destroy`, every object still named RDP_PR_<n>_* in Snowflake (SHOW) or, in AWS, each rdp-pr-<n>-*
name of the stack's plan still there (exit 1 when one is left, 2 when it cannot check).
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import typer
from rich.table import Table
from snowflake.connector.errors import Error as SnowflakeError

from infra.config.reader import stack_config
from infra.naming import Naming
from scripts.core.connections import stack_outputs, transformer_session
from scripts.core.console import console
from scripts.core.runner import failures_in_one_line
from scripts.review import leftovers as listing
from scripts.review.smoke import smoke

app = typer.Typer(add_completion=False, help=__doc__)
STACK = typer.Option(..., "--stack", help="the review stack: pr-<n> (or org/pr-<n>)")
CLOUDS = ("snowflake", "aws")


@app.command("smoke")
def smoke_cmd(stack: str = STACK) -> None:
    """Row counts of the tables the review loads fill, read as TRANSFORMER; exit 1 when one is empty."""
    name = stack.rsplit("/", 1)[-1]
    with failures_in_one_line(SnowflakeError, code=2):
        cfg = stack_config(name)
        out = stack_outputs(stack, ("database", "serviceUsers", "functionalRoles", "warehouses"))
        with closing(transformer_session(cfg, out)) as conn:
            rows = smoke(conn.cursor(), out["database"])
    table = Table("loaded by", "rows", title=f"smoke {name}", title_justify="left")
    for label, n in rows.items():
        table.add_row(label, f"{n:,}" if n else "[bold red]0[/bold red]")
    console.print(table)
    empty = [label for label, n in rows.items() if not n]
    console.print(
        f"[bold red]empty: {', '.join(empty)}[/bold red]" if empty else "[green]every loaded table answers[/green]"
    )
    raise typer.Exit(1 if empty else 0)


@app.command("leftovers")
def leftovers_cmd(
    stack: str = STACK,
    config_from: str = typer.Option(
        "dev", help="the stack file the review stack was made from (prefix, account, region)"
    ),
    expected: Path = typer.Option(
        None, help="for AWS: the names to read back, `python -m infra.plan --stack pr-<n> --leftovers --format json`"
    ),
    only: str = typer.Option(None, help="check one cloud only: snowflake or aws"),
) -> None:
    """Every object still named for the stack, per SHOW or List call; exit 1 when anything is left."""
    if only not in (None, *CLOUDS):
        raise typer.BadParameter("snowflake or aws", param_hint="--only")
    if only in (None, "aws") and expected is None:
        raise typer.BadParameter("AWS is checked by name: give the plan's names", param_hint="--expected")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    name = stack.rsplit("/", 1)[-1]
    found: list[listing.Leftover] = []
    with failures_in_one_line(BotoCoreError, ClientError, SnowflakeError, OSError, KeyError, code=2):
        cfg = stack_config(config_from)
        naming = Naming(cfg.prefix, name)
        if only in (None, "snowflake"):
            with closing(listing.review_session(cfg)) as conn:
                found += listing.snowflake_leftovers(conn.cursor(), naming)
        if only in (None, "aws"):
            session = boto3.session.Session(region_name=cfg.aws_region)
            names = json.loads(expected.read_text())["aws"]
            found += listing.aws_leftovers(session.client, names, naming, cfg.aws_region)
    for kind, left in found:
        console.print(f"left: {kind}: {left}")
    where = " and ".join(c for c in CLOUDS if only in (None, c))
    if found:
        console.print(f"[bold red]{len(found)} objects of {name} are left in {where}[/bold red]")
        raise typer.Exit(1)
    console.print(f"[green]nothing of {name} is left in {where}[/green]")


if __name__ == "__main__":
    app()
