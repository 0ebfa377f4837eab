"""`python -m scripts.serving all|sync|export --stack S | --local`: the serving stores' post-deploy
loads, after the recommendations' (`python -m scripts.recommendations all`)."""

from __future__ import annotations

import typer

from scripts.core.runner import LOCAL, STACK, run_steps
from scripts.serving import loads

app = typer.Typer(add_completion=False, help=__doc__)


@app.command("all")
def all_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """sync → export."""
    run_steps(loads, stack, local, [("sync", loads.sync), ("export", loads.export)])


@app.command("sync")
def sync_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """Warehouse → Postgres serving tables, switched live together."""
    run_steps(loads, stack, local, [("sync", loads.sync)])


@app.command("export")
def export_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """Recommendations → DynamoDB, profiles → Postgres."""
    run_steps(loads, stack, local, [("export", loads.export)])


if __name__ == "__main__":
    app()
