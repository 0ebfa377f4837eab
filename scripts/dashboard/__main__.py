"""The analytics dashboard's steps: `serve` it locally against the stand-in, or `publish` its files to a
deployed stack's stage (`pulumi up` does this itself when the app changes)."""

from __future__ import annotations

import typer

from infra.config.reader import stack_config
from scripts import standins

app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
@standins.exits_in_one_line
def serve(
    stack: str = typer.Option("dev", help="whose database to read on the stand-in"),
    port: int = typer.Option(8501, help="port on 127.0.0.1"),
    database: str = typer.Option("", help="another database on the stand-in (default: the stack's)"),
) -> None:
    """Serve the dashboard on 127.0.0.1 until Ctrl-C (after `make local` has loaded the data)."""
    from scripts.core.runner import failures_in_one_line
    from scripts.dashboard.serve import start

    with failures_in_one_line():
        running = start(database or stack_config(stack).naming.database, port)
    typer.echo(f"dashboard on {running.url} (log {running.log}); Ctrl-C stops it")
    try:
        running.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


@app.command()
def publish(
    stage: str = typer.Option("", help="fully qualified stage (default: the stack's dashboardStage output)"),
    stack: str = typer.Option("", help="a deployed stack whose outputs name the stage"),
    directory: str = typer.Option("app", help="the app's directory on the stage"),
) -> None:
    """Upload the app's files to its stage as the deploy user (its admin role, the stage's owner)."""
    import snowflake.connector

    from scripts.core.connections import stack_outputs
    from scripts.core.runner import failures_in_one_line
    from scripts.dashboard.loads import PublishError, deployer_connection
    from scripts.dashboard.loads import publish as put_files

    with failures_in_one_line(snowflake.connector.errors.Error):
        if not stage:
            if not stack:
                raise PublishError("give --stage or --stack")
            stage = stack_outputs(stack, ["dashboardStage"])["dashboardStage"]
        with deployer_connection() as conn:
            done = put_files(conn.cursor(), stage, directory)
    typer.echo(f"published {len(done.uploaded)} file(s) to @{stage}/{directory}; removed {len(done.removed)} stale")


if __name__ == "__main__":
    app()
