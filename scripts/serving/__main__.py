"""`python -m scripts.serving all|sync|export|rollback --stack S | --local`: the serving stores'
post-deploy loads, after the recommendations' (`python -m scripts.recommendations all`), and the undo
of the last sync."""

from __future__ import annotations

import typer

from scripts.core.runner import LOCAL, STACK, run_steps
from scripts.serving import loads

app = typer.Typer(add_completion=False, help=__doc__)
ALLOW_SHRINK = typer.Option(
    False, "--allow-shrink", help="put live a load below its floors or shrunk beyond the config (logged)"
)


@app.command("all")
def all_cmd(stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK) -> None:
    """sync → export."""
    run_steps(
        loads,
        stack,
        local,
        [
            ("sync", lambda t: loads.sync(t, allow_shrink=allow_shrink)),
            ("export", lambda t: loads.export(t, allow_shrink=allow_shrink)),
        ],
    )


@app.command("sync")
def sync_cmd(stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK) -> None:
    """Warehouse → Postgres serving tables, checked against their floors, switched live together."""
    run_steps(loads, stack, local, [("sync", lambda t: loads.sync(t, allow_shrink=allow_shrink))])


@app.command("export")
def export_cmd(stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK) -> None:
    """Recommendations → DynamoDB, profiles → Postgres."""
    run_steps(loads, stack, local, [("export", lambda t: loads.export(t, allow_shrink=allow_shrink))])


@app.command("rollback")
def rollback_cmd(stack: str = STACK, local: bool = LOCAL) -> None:
    """Put the tables the last sync replaced (`<table>__old`) back live, in one transaction."""
    run_steps(loads, stack, local, [("rollback", loads.rollback)])


if __name__ == "__main__":
    app()
