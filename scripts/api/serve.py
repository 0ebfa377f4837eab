"""Run the recommendation API on 127.0.0.1 against the stand-ins (make local, tests, bench).

`python -m scripts.api serve` starts the orchestrator (and the ranker when RANKER_MODE=http) and keeps
them running until Ctrl-C; `make local` starts them in the background and records their pids so
`make stop` ends them. Each server is a process group (with several workers: the supervisor and its
workers), and stopping one ends the whole group.

The orchestrator runs as in its image, under its server.py (uvicorn with TCP_NODELAY on a multi-worker
socket, one worker per CPU by default); the ranker under plain uvicorn, one worker.
Both get THREAD_ENV, as their specs set it.
"""

from __future__ import annotations

import sys
from urllib.parse import urlparse

from scripts import standins
from scripts.core.target import Target
from scripts.standins.apps import ROOT, Running, start_http


def api_env(target: Target, ranker_mode: str = "inprocess", ranker_url: str = "") -> dict[str, str]:
    """Environment for the orchestrator, as the SPCS spec sets it, pointed at the stand-ins."""
    ep = standins.endpoints()
    pg = urlparse(ep.postgres_dsn)
    return {
        "PG_HOST": "127.0.0.1",
        "PG_PORT": str(pg.port),
        "PG_DB": pg.path.lstrip("/"),
        "PG_USER": pg.username or "postgres",
        "PG_PASSWORD": pg.password or "",
        "PG_SCHEMA": target.pg_schema,
        "PG_SSLMODE": "disable",
        "RANKER_MODE": ranker_mode,
        "RANKER_URL": ranker_url,
        "RANKER_MODEL_PATH": model_path(target),
        "DYNAMODB_TABLE": target.dynamodb_table,
        "AWS_ENDPOINT_URL": ep.moto_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "SNOWFLAKE_HOST": ep.snowflake_host,
        "SNOWFLAKE_PORT": str(ep.snowflake_port),
        "SNOWFLAKE_DATABASE": target.database,
    }


# One compute thread per worker process, as the specs and images set it: XGBoost's OpenMP and NumPy's
# BLAS otherwise start a thread per core in every worker.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# uvicorn with TCP_NODELAY on a multi-worker socket and one worker per CPU; the orchestrator's image CMD
SERVER_PY = ROOT / "services" / "api" / "orchestrator" / "server.py"
UVICORN = ("-m", "uvicorn")
# the orchestrator, as its image's CMD: httptools' parser, whose own refusals are JSON (server.JsonRefusals)
REQUEST_LIMIT = ("--http", "server:JsonRefusals")


def command(service: str, workers: int | None = 1, runner: tuple[str, ...] | None = None) -> list[str]:
    """The command line of `service` on 127.0.0.1:{port}: the orchestrator under server.py (as its image
    runs it), the ranker under uvicorn; `runner` overrides that. `workers=None`: one per CPU."""
    runner = runner or ((str(SERVER_PY),) if service == "orchestrator" else UVICORN)
    app = ["--factory", f"{service}.app:create_app", "--app-dir", str(ROOT / "services" / "api" / service)]
    listen = ["--host", "127.0.0.1", "--port", "{port}", *(["--workers", str(workers)] if workers else [])]
    quiet = ["--no-access-log", "--log-level", "warning"]
    protocol = REQUEST_LIMIT if service == "orchestrator" else ()  # server.py sits beside the orchestrator
    return [sys.executable, *runner, *app, *listen, *quiet, *protocol]


def start(service: str, env: dict[str, str], port: int | None = None, workers: int | None = 1) -> Running:
    """Start `orchestrator` or `ranker` on 127.0.0.1 and wait for /health; if it never answers, it is ended
    and a StandInError says in one line why (the log's cause), where the log is and what to do.
    `workers=None` runs one worker per available CPU, as the orchestrator's image does."""
    # The project root is on the path: the orchestrator imports services.features, as in its image.
    fix = "fix what the log reports (`make setup` reinstalls missing packages), then run `make local` again"
    return start_http(service, command(service, workers), {**THREAD_ENV, **env}, port, "/health", fix)


def model_path(target: Target) -> str:
    """The ranking model the API reads (published by the recommendations' train step)."""
    return str(target.artifacts / "ranking" / "ranking_model.json")
