"""`python -m scripts.serving all|sync|export|rollback --stack S | --local`: the serving stores'
post-deploy loads, after the recommendations' (`python -m scripts.recommendations all`), and the undo
of the last sync. `refresh --stack S [--local | --in-service]`: train when due → sync → export, what the
scheduled task's job runs. `write-ca --stack S`: the Postgres root CA file, before a refresh or destroy."""

from __future__ import annotations

from pathlib import Path

import typer

from infra.config.reader import stack_config
from scripts.core.errors import LoadError
from scripts.core.runner import IN_SERVICE, LOCAL, STACK, run_steps
from scripts.serving import ca, loads, refresh

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
def sync_cmd(
    stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK, in_service: bool = IN_SERVICE
) -> None:
    """Warehouse → Postgres serving tables, checked against their floors, switched live together."""
    sync = ("sync", lambda t: loads.sync(t, allow_shrink=allow_shrink))
    run_steps(loads, stack, local, [sync], in_service=in_service)


@app.command("export")
def export_cmd(
    stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK, in_service: bool = IN_SERVICE
) -> None:
    """Recommendations → DynamoDB, profiles → Postgres."""
    export = ("export", lambda t: loads.export(t, allow_shrink=allow_shrink))
    run_steps(loads, stack, local, [export], in_service=in_service)


@app.command("refresh")
def refresh_cmd(
    stack: str = STACK,
    local: bool = LOCAL,
    in_service: bool = IN_SERVICE,
    train_every_days: int | None = typer.Option(
        None, min=1, help="retrain when the published model is this old (default servingRefresh.trainEveryDays)"
    ),
) -> None:
    """Train when due → sync → export, each as its own process, stopping at the first that fails."""
    every = train_every_days or stack_config(stack).serving_refresh.train_every_days
    chain = refresh.steps(stack, local=local, in_service=in_service, train_every_days=every)
    try:
        refresh.run(chain)
    except refresh.RefreshError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(e.code) from None


@app.command("rollback")
def rollback_cmd(stack: str = STACK, local: bool = LOCAL, allow_shrink: bool = ALLOW_SHRINK) -> None:
    """Put the tables the last sync replaced (`<table>__old`) back live, in one transaction, unless one
    is below its floor or shrinks beyond the config's share (as a sync would be refused)."""
    rollback = ("rollback", lambda t: loads.rollback(t, allow_shrink=allow_shrink))
    run_steps(loads, stack, local, [rollback])


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
