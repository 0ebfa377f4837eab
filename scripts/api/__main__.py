"""`python -m scripts.api serve`: the recommendation API on 127.0.0.1 against the stand-ins, in the
foreground (after `make local` has loaded the data); `python -m scripts.api status --stack S`: its SPCS
service's status on a deployed stack."""

from __future__ import annotations

import typer

from scripts import standins
from scripts.api import loads, serve
from scripts.core import target
from scripts.core.console import console
from scripts.core.rehearsal import register_running
from scripts.core.runner import STACK, run_steps
from scripts.core.target import local_target
from scripts.standins.apps import Running

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)


@app.command("serve")
@standins.exits_in_one_line
def serve_cmd(
    stack: str = typer.Option("dev"),
    port: int = typer.Option(8000),
    ranker_mode: str = typer.Option("inprocess", help="inprocess | http"),
    workers: int = typer.Option(0, help="orchestrator workers (0: one per available CPU)"),
) -> None:
    """Serve the API on 127.0.0.1:<port> until Ctrl-C; `make stop` ends it too."""
    if ranker_mode not in ("inprocess", "http"):
        raise typer.BadParameter(f"--ranker-mode must be inprocess or http, not {ranker_mode!r}")
    t = local_target(stack)
    servers: list[tuple[str, Running]] = []
    try:
        if ranker_mode == "http":
            servers.append(("ranker (foreground)", serve.start("ranker", {"RANKER_MODEL_PATH": serve.model_path(t)})))
        ranker_url = servers[0][1].url if servers else ""
        api = serve.start("orchestrator", serve.api_env(t, ranker_mode, ranker_url), port, workers or None)
        servers.append(("orchestrator (foreground)", api))
        for name, server in servers:
            register_running(name, server)
        typer.echo(f"orchestrator on {api.url} (test page {api.url}/); Ctrl-C stops it")
        api.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for name, server in servers:
            server.stop()
            standins.stop_app(name)


@app.command("status")
def status_cmd(stack: str = STACK) -> None:
    """The orchestrator service's status on a deployed stack (SYSTEM$GET_SERVICE_STATUS)."""
    run_steps(
        target, stack, False, [("api service", loads.service_status)], show=lambda _, s: console.print_json(data=s)
    )


if __name__ == "__main__":
    app()
