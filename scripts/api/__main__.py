"""`python -m scripts.api serve`: the recommendation API on 127.0.0.1 against the stand-ins, in the
foreground (after `make local` has loaded the data); `python -m scripts.api status --stack S`: its SPCS
service's status on a deployed stack; `call --stack S`: one /health and one /recommend to its public
endpoint; `registry-token --stack S`: the image push's token, set as config before `pulumi up`."""

from __future__ import annotations

import os

import typer

from scripts import standins
from scripts.api import call, loads, registry, serve
from scripts.core import connections, target
from scripts.core.console import console
from scripts.core.errors import LoadError
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


@app.command("call")
def call_cmd(
    stack: str = STACK,
    customer_id: int = typer.Option(..., help="a customer with orders (CUSTOMER_360.TOTAL_ORDERS > 0)"),
    zip_code: str = typer.Option("10001"),
    url: str = typer.Option("", help="the endpoint instead of the stack output apiEndpoint"),
) -> None:
    """GET /health and GET /recommend on the deployed orchestrator: status and latency of each (token
    from RDP_API_TOKEN); exit 1 unless both answer 200."""
    try:
        base = url.rstrip("/") or call.endpoint(connections.stack_outputs(stack, ()), stack)
    except LoadError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    answers = call.smoke(base, customer_id, zip_code, os.environ.get(call.TOKEN_VARIABLE) or None)
    typer.echo(f"{base} ({'token from ' + call.TOKEN_VARIABLE if os.environ.get(call.TOKEN_VARIABLE) else 'no token'})")
    for a in answers:
        typer.echo("  " + a.line())
    if not all(a.ok for a in answers):
        raise typer.Exit(1)


def _outputs(stack: str) -> dict:
    return connections.stack_outputs(stack, ())


@app.command("registry-token")
def registry_token_cmd(
    stack: str = STACK,
    pulumi_stack: str = typer.Option("", help="the stack as the Pulumi CLI names it (org/dev); default --stack"),
) -> None:
    """Mint the registry user's short-lived token (its key from SNOWFLAKE_REGISTRY_KEY) and set it as
    the secret config registryToken; on a first deploy create that user first (pulumi up --target)."""
    reg = registry.registry_for(stack, pulumi_stack or None)
    key = os.environ.get(registry.KEY_VARIABLE, "")
    try:
        if not key:
            raise LoadError(f"{registry.KEY_VARIABLE} is not set: the private key (PEM) of {reg.user}")
        for line in registry.prepare(reg, key, lambda: registry.plan_json(stack), _outputs):
            typer.echo(line)
    except LoadError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
