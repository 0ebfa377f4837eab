"""The stand-ins from the shell (and `make stop`/`make status`): start, stop, status, env, clean."""

from __future__ import annotations

import typer

from scripts import standins
from scripts.standins import exits_in_one_line

app = typer.Typer(add_completion=False, help=standins.__doc__, no_args_is_help=True)


@app.command("start")
@exits_in_one_line
def start_cmd(
    services: list[str] | None = typer.Argument(None, help="postgres, moto, fakesnow (default: all three)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="on failure, the traceback too (as RDP_DEBUG=1)"),
) -> None:
    """Start the stand-ins on 127.0.0.1 (a second start is a no-op) and print their endpoints."""
    if services and set(services) != set(standins.SERVICES):
        standins.launch(tuple(services))
        typer.echo(f"started: {', '.join(services)}")
        return
    print_env(standins.start())


@app.command("stop")
def stop_cmd() -> None:
    """Stop every stand-in (and the API `make local` left running) of this checkout."""
    standins.stop()
    typer.echo("stopped")


@app.command("status")
def status_cmd() -> None:
    """Each stand-in's state, pid, port and, for PostgreSQL, its data directory."""
    for line in standins.status():
        typer.echo(line)


@app.command("env")
@exits_in_one_line
def env_cmd() -> None:
    """Print the endpoints as shell variables (`eval $(python -m scripts.standins env)`)."""
    print_env(standins.endpoints(), "export ")


def print_env(ep: standins.Endpoints, prefix: str = "") -> None:
    """The endpoints as VARIABLE=value lines (`prefix` "export " for a shell's eval)."""
    for k, v in ep.as_env().items():
        typer.echo(f"{prefix}{k}={v}")


@app.command("clean")
def clean_cmd() -> None:
    """Stop everything and remove the stand-ins' data: the state dir and PostgreSQL's data outside it."""
    standins.clean()
    typer.echo("stopped and removed")


if __name__ == "__main__":
    app()
