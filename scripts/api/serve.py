"""Run the recommendation API on 127.0.0.1 against the stand-ins (make local, tests, bench).

`python -m scripts.api.serve` starts the orchestrator (and the ranker when RANKER_MODE=http) and keeps
them running until Ctrl-C; `make local` starts them in the background and records their pids so
`make stop` ends them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from scripts import standins

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    proc: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


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
    port = port or standins.free_port()
    log = standins.STATE_DIR / f"{service}-{port}.log"
    standins.STATE_DIR.mkdir(parents=True, exist_ok=True)
    offset = standins.log_size(log)
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", f"{service}.app:create_app",
        "--app-dir", str(ROOT / "services" / service), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
        # as the image's CMD: requests up to 1 MiB reach the app, so a long URL gets its JSON 414
        "--h11-max-incomplete-event-size", "1048576",
    ]  # fmt: skip
    with open(log, "ab") as out:
        # The project root on the path: the orchestrator imports services.features, as in its image.
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env, "PYTHONPATH": pythonpath}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    running = Running(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{running.url}/health", timeout=1).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    exited = proc.poll()
    running.stop()
    what = (
        f"{service}: no answer on {running.url}/health within 60 s"
        if exited is None
        else f"{service}: exited with status {exited} before answering /health"
    )
    fix = "fix what the log reports (`make setup` reinstalls missing packages), then run `make local` again"
    raise standins.StandInError(standins.with_cause(what, log, offset), log, fix)


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
