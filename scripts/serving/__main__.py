"""`python -m scripts.serving all|sync|export|rollback --stack S | --local`: the serving stores'
post-deploy loads, after the recommendations' (`python -m scripts.recommendations all`), and the undo
of the last sync. `write-ca --stack S`: the Postgres root CA file, before a refresh or destroy."""

from __future__ import annotations

from pathlib import Path

import typer

from scripts.core.errors import LoadError
from scripts.core.runner import LOCAL, STACK, run_steps
from scripts.serving import ca, loads

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


@app.command("write-ca")
def write_ca_cmd(
    stack: str = typer.Option(..., "--stack", help="the Pulumi stack (org/name or name)"),
    outputs: Path | None = typer.Option(None, help="a `pulumi stack output --json` file instead of asking Pulumi"),
    state: Path | None = typer.Option(None, help="a `pulumi stack export` file instead of asking Pulumi"),
) -> None:
    """Write the Postgres root CA to the file the postgresql provider reads (`refresh` and `destroy` run no
    program, so nothing else writes it on a clean checkout). Run it before either."""
    try:
        path = ca.write_ca(stack, outputs, state)
    except LoadError as e:
        typer.echo(f"write-ca: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"wrote {path.relative_to(ca.ROOT)}" if path else f"stack {stack} has no postgresql provider: nothing to write"
    )


if __name__ == "__main__":
    app()
