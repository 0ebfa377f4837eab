"""Run the recommendation API on 127.0.0.1 against the stand-ins (make local, tests, bench).

`python -m scripts.api.serve` starts the orchestrator (and the ranker when RANKER_MODE=http) and keeps
them running until Ctrl-C; `make local` starts them in the background and records their pids so
`make stop` ends them.
"""

from __future__ import annotations

import sys
from urllib.parse import urlparse

from scripts import standins
from scripts.standins.apps import ROOT, Running, start_http


def api_env(target, ranker_mode: str = "inprocess", ranker_url: str = "") -> dict[str, str]:
    """Environment for the orchestrator, as the SPCS spec sets it, pointed at the stand-ins."""
    ep = standins.endpoints()
    pg = urlparse(ep.postgres_dsn)
    return {
        "PG_HOST": "127.0.0.1",
        "PG_PORT": str(pg.port),
        "PG_DB": pg.path.lstrip("/"),
        "PG_USER": pg.username or "postgres",
        "PG_PASSWORD": "",
        "PG_SCHEMA": target.pg_schema,
        "PG_SSLMODE": "disable",
        "RANKER_MODE": ranker_mode,
        "RANKER_URL": ranker_url,
        "RANKER_MODEL_PATH": str(target.artifacts / "ranking" / "ranking_model.json"),
        "DYNAMODB_TABLE": target.dynamodb_table,
        "AWS_ENDPOINT_URL": ep.moto_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "SNOWFLAKE_HOST": ep.snowflake_host,
        "SNOWFLAKE_PORT": str(ep.snowflake_port),
        "SNOWFLAKE_DATABASE": target.database,
    }


def start(service: str, env: dict[str, str], port: int | None = None, workers: int = 1) -> Running:
    """Start `orchestrator` or `ranker` under uvicorn on 127.0.0.1 and wait for /health; if it never answers,
    it is ended and a StandInError says in one line why (the log's cause), where the log is and what to do."""
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", f"{service}.app:create_app",
        "--app-dir", str(ROOT / "services" / service), "--host", "127.0.0.1", "--port", "{port}",
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
        # as the image's CMD: requests up to 1 MiB reach the app, so a long URL gets its JSON 414
        "--h11-max-incomplete-event-size", "1048576",
    ]  # fmt: skip
    # The project root is on the path: the orchestrator imports services.features, as in its image.
    fix = "fix what the log reports (`make setup` reinstalls missing packages), then run `make local` again"
    return start_http(service, cmd, env, port, "/health", fix)


def main() -> None:
    import typer

    @standins.exits_in_one_line
    def run(
        stack: str = typer.Option("dev"),
        port: int = typer.Option(8000),
        ranker_mode: str = typer.Option("inprocess", help="inprocess | http"),
    ) -> None:
        """Serve the API on 127.0.0.1:<port> until Ctrl-C (after `make local` has loaded the data)."""
        from scripts.recommendations.target import local_target

        t = local_target(stack)
        ranker = (
            start("ranker", {"RANKER_MODEL_PATH": str(t.artifacts / "ranking" / "ranking_model.json")})
            if (ranker_mode == "http")
            else None
        )
        api = start("orchestrator", api_env(t, ranker_mode, ranker.url if ranker else ""), port)
        typer.echo(f"orchestrator on {api.url} (test page {api.url}/); Ctrl-C stops it")
        try:
            api.proc.wait()
        except KeyboardInterrupt:
            pass
        finally:
            api.stop()
            if ranker:
                ranker.stop()

    typer.run(run)


if __name__ == "__main__":
    main()
