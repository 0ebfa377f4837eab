"""Local stand-ins for the clouds: PostgreSQL, moto server (AWS) and a fakesnow endpoint (Snowflake).

    python -m scripts.standins start | stop | status | env

All bind 127.0.0.1 on free ports; state (data, logs, pids, ports) lives under .local/ (git-ignored).
A second start is a no-op, a stale pid is cleaned up, and a busy port or a missing binary stops
with a message that says which.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("RDP_LOCAL_DIR", ROOT / ".local"))
STATE_FILE = STATE_DIR / "state.json"
SERVICES = ("postgres", "moto", "fakesnow")
PG_DB = "retail"
PG_USER = "postgres"

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)


class StandInError(RuntimeError):
    """A stand-in could not be started; the message names the service and the cause."""


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
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=1, sort_keys=True))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return True


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wanted_port(service: str) -> int:
    """A fixed port from RDP_<SERVICE>_PORT, checked free; otherwise any free port."""
    env = os.environ.get(f"RDP_{service.upper()}_PORT")
    if env:
        port = int(env)
        if port_open(port):
            raise StandInError(f"{service}: port {port} (from RDP_{service.upper()}_PORT) is already in use")
        return port
    return free_port()


def _wait_port(service: str, port: int, pid: int | None, log: Path, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port_open(port):
            return
        if pid and not _alive(pid):
            break
        time.sleep(0.2)
    tail = log.read_text()[-1500:] if log.is_file() else ""
    raise StandInError(f"{service}: did not start listening on 127.0.0.1:{port}\n{tail}")


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    return proc.pid


# ---------------------------------------------------------------- PostgreSQL
def pg_bindir() -> Path:
    """PostgreSQL's server binaries: found, or installed from Debian when we are root."""
    found = _find_pg()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        typer.echo("postgres: not found, installing from Debian (apt-get install postgresql)…", err=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env, stdout=subprocess.DEVNULL
        )
        found = _find_pg()
        if found:
            return found
    raise StandInError(
        "postgres: no PostgreSQL server binaries (initdb, pg_ctl) found under /usr/lib/postgresql/*/bin; "
        "install them with `apt-get install postgresql`"
    )


def _find_pg() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
            return Path(d)
    return None


def _as_pg_owner(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; run them as the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_postgres(state: dict) -> dict:
    bindir = pg_bindir()
    data = STATE_DIR / "pgdata"
    sock = STATE_DIR / "pgsock"
    log = STATE_DIR / "postgres.log"
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    sock.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(STATE_DIR, "postgres")
        shutil.chown(sock, "postgres")
        log.touch()
        shutil.chown(log, "postgres")
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(data, "postgres")
        subprocess.run(
            _as_pg_owner([str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = _wanted_port("postgres")
    subprocess.run(
        _as_pg_owner(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pid = int((data / "postmaster.pid").read_text().split()[0])
    _wait_port("postgres", port, pid, log)
    dsn_admin = f"postgresql://{PG_USER}@127.0.0.1:{port}/postgres"
    import psycopg

    with psycopg.connect(dsn_admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (PG_DB,)).fetchone():
            conn.execute(f'create database "{PG_DB}"')
    return {"pid": pid, "port": port, "bindir": str(bindir), "data": str(data)}


def stop_postgres(info: dict) -> None:
    data = info.get("data")
    bindir = info.get("bindir")
    if data and bindir and Path(data, "postmaster.pid").exists():
        subprocess.run(
            _as_pg_owner([str(Path(bindir) / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    _kill(info.get("pid"))


# ---------------------------------------------------------------- moto and fakesnow
def _python_tool(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def start_moto(state: dict) -> dict:
    try:
        import moto.server  # noqa: F401
    except ImportError as e:
        raise StandInError("moto: moto[server] is not installed (run `make setup`)") from e
    port = _wanted_port("moto")
    log = STATE_DIR / "moto.log"
    pid = _spawn([*_python_tool("moto.server"), "-H", "127.0.0.1", "-p", str(port)], log)
    _wait_port("moto", port, pid, log)
    return {"pid": pid, "port": port}


def start_fakesnow(state: dict) -> dict:
    try:
        import fakesnow  # noqa: F401
    except ImportError as e:
        raise StandInError("fakesnow: fakesnow is not installed (run `make setup`)") from e
    port = _wanted_port("fakesnow")
    log = STATE_DIR / "fakesnow.log"
    dbdir = STATE_DIR / "fakesnow"
    dbdir.mkdir(parents=True, exist_ok=True)
    pid = _spawn([*_python_tool("fakesnow"), "-s", "--host", "127.0.0.1", "-p", str(port), "-d", str(dbdir)], log)
    _wait_port("fakesnow", port, pid, log)
    return {"pid": pid, "port": port}


def _kill(pid: int | None) -> None:
    if not pid or not _alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    for _ in range(50):
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


STARTERS = {"postgres": start_postgres, "moto": start_moto, "fakesnow": start_fakesnow}


def _running(info: dict | None) -> bool:
    return bool(info) and _alive(info.get("pid")) and port_open(info.get("port", 0))


def start(services: tuple[str, ...] = SERVICES) -> Endpoints:
    """Start what is not running (idempotent) and return the endpoints."""
    state = _load()
    for svc in services:
        info = state.get(svc)
        if _running(info):
            continue
        if info:  # stale: process gone or port dead
            (stop_postgres if svc == "postgres" else lambda i: _kill(i.get("pid")))(info)
            state.pop(svc, None)
        state[svc] = STARTERS[svc](state)
        _save(state)
    return endpoints(state)


def endpoints(state: dict | None = None) -> Endpoints:
    state = state if state is not None else _load()
    missing = [s for s in SERVICES if not _running(state.get(s))]
    if missing:
        raise StandInError(f"not running: {', '.join(missing)} (run `python -m scripts.standins start`)")
    return Endpoints(
        postgres_dsn=f"postgresql://{PG_USER}@127.0.0.1:{state['postgres']['port']}/{PG_DB}",
        moto_url=f"http://127.0.0.1:{state['moto']['port']}",
        snowflake_host="127.0.0.1",
        snowflake_port=state["fakesnow"]["port"],
    )


def stop_app(name: str) -> None:
    """End a process `make local` left running (the API), if it is still there."""
    state = _load()
    info = (state.get("apps") or {}).pop(name, None)
    if info:
        _kill(info.get("pid"))
        _save(state)


def register_app(name: str, pid: int, port: int) -> None:
    """Record a process `make local` leaves running (the API) so `make stop` ends it too."""
    state = _load()
    state.setdefault("apps", {})[name] = {"pid": pid, "port": port}
    _save(state)


def stop() -> None:
    state = _load()
    for info in (state.pop("apps", None) or {}).values():
        _kill(info.get("pid"))
    for svc in SERVICES:
        info = state.pop(svc, None)
        if not info:
            continue
        if svc == "postgres":
            stop_postgres(info)
        else:
            _kill(info.get("pid"))
    _save(state)


@app.command("start")
def start_cmd() -> None:
    """Start PostgreSQL, moto and fakesnow on 127.0.0.1 (a second start is a no-op)."""
    try:
        ep = start()
    except (StandInError, subprocess.CalledProcessError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    for k, v in ep.as_env().items():
        typer.echo(f"{k}={v}")


@app.command("stop")
def stop_cmd() -> None:
    """Stop every stand-in this directory started."""
    stop()
    typer.echo("stopped")


@app.command("status")
def status_cmd() -> None:
    """Show each stand-in's pid, port and whether it answers."""
    state = _load()
    for svc in SERVICES:
        info = state.get(svc)
        if not info:
            typer.echo(f"{svc:9s} stopped")
        else:
            up = "running" if _running(info) else "stale"
            typer.echo(f"{svc:9s} {up:8s} pid={info.get('pid')} port={info.get('port')}")


@app.command("env")
def env_cmd() -> None:
    """Print the endpoints as shell variables (`eval $(python -m scripts.standins env)`)."""
    try:
        ep = endpoints()
    except StandInError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    for k, v in ep.as_env().items():
        typer.echo(f"export {k}={v}")


if __name__ == "__main__":
    app()
