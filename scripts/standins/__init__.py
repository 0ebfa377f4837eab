"""Local stand-ins for the clouds: PostgreSQL, moto server (AWS) and a fakesnow endpoint (Snowflake).

    python -m scripts.standins start [SERVICE…] [--verbose] | stop | status | env | clean

All bind 127.0.0.1 on free ports; state (logs, pids, ports, fakesnow's data) lives under .local/
(git-ignored) or $RDP_LOCAL_DIR, and so does PostgreSQL's data unless we are root (see `postgres`).
A second start is a no-op, a stale pid is cleaned up, every failure is one line (what failed, the log
to read, what to do), and a process is recorded as soon as it is spawned, so `stop` after a failed or
interrupted start leaves nothing running.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from scripts.standins.errors import StandInError, exits_in_one_line, last_cause, log_size, with_cause
from scripts.standins.postgres import dsn as pg_dsn
from scripts.standins.postgres import (
    find_pg,
    pg_bindir,
    pg_data_dir,
    remove_data,
    start_postgres,
    stop_postgres,
)
from scripts.standins.processes import alive, free_port, kill, port_open, start_fakesnow, start_moto, wanted_port

__all__ = [
    "SERVICES",
    "STATE_DIR",
    "STATE_FILE",
    "Endpoints",
    "StandInError",
    "alive",
    "app_url",
    "clean",
    "endpoints",
    "exits_in_one_line",
    "free_port",
    "kill",
    "last_cause",
    "launch",
    "log_size",
    "pg_bindir",
    "pg_data_dir",
    "port_open",
    "register_app",
    "remove_postgres_data",
    "running",
    "start",
    "status",
    "stop",
    "stop_app",
    "stop_postgres",
    "wanted_port",
    "with_cause",
]

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("RDP_LOCAL_DIR", ROOT / ".local"))
STATE_FILE = STATE_DIR / "state.json"
SERVICES = ("postgres", "moto", "fakesnow")
STARTERS = {"postgres": start_postgres, "moto": start_moto, "fakesnow": start_fakesnow}


@dataclass
class Endpoints:
    postgres_dsn: str
    moto_url: str
    snowflake_host: str
    snowflake_port: int

    def as_env(self) -> dict[str, str]:
        return {
            "RDP_PG_DSN": self.postgres_dsn,
            "RDP_AWS_ENDPOINT": self.moto_url,
            "RDP_SNOWFLAKE_HOST": self.snowflake_host,
            "RDP_SNOWFLAKE_PORT": str(self.snowflake_port),
        }


def _load() -> dict:
    if STATE_FILE.is_file():
        return json.loads(STATE_FILE.read_text())
    return {}


def _save(state: dict) -> None:
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=1, sort_keys=True))


def running(info: dict | None) -> bool:
    """Its process is there and its port answers."""
    return bool(info) and alive(info.get("pid")) and port_open(info.get("port") or 0)


def _stop_one(service: str, info: dict) -> None:
    if service == "postgres":
        stop_postgres(info)
    else:
        kill(info.get("pid"))


def _start_one(service: str, state: dict) -> None:
    """Start one stand-in, recording it as soon as it has a pid; on any failure, end it and raise one line."""

    def record(info: dict) -> None:
        state[service] = info
        _save(state)

    try:
        record(STARTERS[service](STATE_DIR, record))
    except BaseException as e:
        info = state.pop(service, None)
        if info:
            _stop_one(service, info)
        _save(state)
        if isinstance(e, StandInError) or not isinstance(e, Exception):
            raise
        what = f"{service}: could not start ({type(e).__name__}: {e})"
        raise StandInError(what, STATE_DIR / f"{service}.log", "run `make local` again") from e


def launch(services: tuple[str, ...] = SERVICES) -> None:
    """Start the given stand-ins that are not running; a stale one (process gone, port dead) is ended first."""
    unknown = [s for s in services if s not in STARTERS]
    if unknown:
        raise StandInError(f"unknown stand-in {', '.join(unknown)}", fix=f"name one of {', '.join(SERVICES)}")
    state = _load()
    for service in services:
        info = state.get(service)
        if running(info):
            continue
        if info:
            _stop_one(service, state.pop(service))
            _save(state)
        _start_one(service, state)


def start(services: tuple[str, ...] = SERVICES) -> Endpoints:
    """Start what is not running (idempotent) and return the endpoints."""
    launch(services)
    return endpoints()


def endpoints(state: dict | None = None) -> Endpoints:
    """The endpoints of the running stand-ins, or one line naming those that are not running."""
    state = state if state is not None else _load()
    missing = [s for s in SERVICES if not running(state.get(s))]
    if missing:
        raise StandInError(
            f"not running: {', '.join(missing)}", fix="run `make local` (or `python -m scripts.standins start`)"
        )
    return Endpoints(
        postgres_dsn=pg_dsn(STATE_DIR, state["postgres"]["port"]),
        moto_url=f"http://127.0.0.1:{state['moto']['port']}",
        snowflake_host="127.0.0.1",
        snowflake_port=state["fakesnow"]["port"],
    )


def stop_app(name: str) -> None:
    """End a process `make local` left running (the API), if it is still there."""
    state = _load()
    info = (state.get("apps") or {}).pop(name, None)
    if info:
        kill(info.get("pid"))
        _save(state)


def app_url(name: str) -> str:
    """The URL of an app `make local` left running (the API), or "" when it is not running."""
    info = (_load().get("apps") or {}).get(name)
    if not info or not alive(info.get("pid")) or not port_open(info.get("port") or 0):
        return ""
    return f"http://127.0.0.1:{info['port']}"


def register_app(name: str, pid: int, port: int) -> None:
    """Record a process `make local` leaves running (the API) so `make stop` ends it too."""
    state = _load()
    state.setdefault("apps", {})[name] = {"pid": pid, "port": port}
    _save(state)


def stop() -> None:
    """End every stand-in and app this state dir started, and a server whose start was cut short before
    state.json knew of it (its data directory is found from the state dir alone)."""
    state = _load()
    for info in (state.pop("apps", None) or {}).values():
        kill(info.get("pid"))
    for service in SERVICES:
        info = state.pop(service, None)
        if info:
            _stop_one(service, info)
    bindir = find_pg()
    if bindir:
        stop_postgres({"data": str(pg_data_dir(STATE_DIR)), "bindir": str(bindir)})
    _save(state)


def status() -> list[str]:
    """One line per stand-in: running, stale or stopped, with its pid, port and (PostgreSQL) data directory."""
    state = _load()
    lines = []
    for service in SERVICES:
        info = state.get(service)
        if not info:
            lines.append(f"{service:9s} stopped")
            continue
        up = "running" if running(info) else "stale"
        line = f"{service:9s} {up:8s} pid={info.get('pid')} port={info.get('port')}"
        lines.append(line + (f" data={info['data']}" if info.get("data") else ""))
    for name, info in (state.get("apps") or {}).items():
        up = "running" if alive(info.get("pid")) else "stale"
        lines.append(
            f"{name:9s} {up:8s} pid={info.get('pid')} port={info.get('port')} http://127.0.0.1:{info.get('port')}"
        )
    lines.append(f"logs and state in {STATE_DIR}")
    return lines


def remove_postgres_data() -> None:
    """Remove PostgreSQL's data of this state dir, wherever it lives (stop first)."""
    remove_data(STATE_DIR)


def clean() -> None:
    """Stop everything and remove all the stand-ins' data: the state dir and PostgreSQL's data outside it."""
    stop()
    remove_data(STATE_DIR)
    shutil.rmtree(STATE_DIR, ignore_errors=True)
