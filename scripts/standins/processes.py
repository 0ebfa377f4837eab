"""Processes of the stand-ins: loopback ports, spawning, waiting for a port, ending a whole process group;
and the two Python stand-ins, moto (AWS) and fakesnow (Snowflake)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scripts.standins.errors import StandInError, log_size, with_cause

# Called with a service's pid and port as soon as they are known, so `make stop` finds a process whose
# start then fails or is interrupted.
Record = Callable[[dict], None]
AGAIN = "run `make stop` and `make local` again"
FIX_PY = "fix what the log reports (`make setup` reinstalls missing packages), then " + AGAIN


def alive(pid: int | None) -> bool:
    """The process exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group: a stand-in's children outlive it when only the leader is ended."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def port_open(port: int) -> bool:
    """Something answers on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A port nothing listens on now, picked by the kernel."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wanted_port(service: str) -> int:
    """A fixed port from RDP_<SERVICE>_PORT, checked free; otherwise any free port."""
    name = f"RDP_{service.upper()}_PORT"
    env = os.environ.get(name)
    if env:
        port = int(env)
        if port_open(port):
            raise StandInError(
                f"{service}: port {port} (from {name}) is already in use", fix=f"free port {port} or unset {name}"
            )
        return port
    return free_port()


def wait_port(service: str, port: int, pid: int | None, log: Path, offset: int, fix: str, timeout: float = 30) -> None:
    """Return once the service listens; otherwise one line with the log's cause."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port_open(port):
            return
        if pid and not alive(pid):
            what = f"{service}: exited before listening on 127.0.0.1:{port}"
            break
        time.sleep(0.2)
    else:
        what = f"{service}: not listening on 127.0.0.1:{port} after {timeout:.0f} s"
    raise StandInError(with_cause(what, log, offset), log, fix)


# What a stand-in never inherits: the job's cloud, CI and Postgres credentials (a stand-in is reachable by
# other users of the machine, and PostgreSQL's COPY … FROM PROGRAM runs commands in its environment).
SCRUBBED_PREFIXES = ("SNOWFLAKE_", "AWS_", "PULUMI_", "GITHUB_", "ACTIONS_", "ARM_", "GOOGLE_", "PG", "RDP_PG_")


def scrubbed_env(extra: dict | None = None) -> dict[str, str]:
    """The environment a stand-in starts with: ours, minus every credential-bearing variable, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.upper().startswith(SCRUBBED_PREFIXES)}
    return {**kept, **(extra or {})}


def spawn(cmd: list[str], log: Path, env: dict | None = None) -> int:
    """Start a stand-in in its own session (and process group), its output appended to its log, in a
    scrubbed environment plus `env`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=scrubbed_env(env),
        )
    return proc.pid


def send(pid: int, sig: int) -> None:
    """To the process group when the pid leads one (stand-ins do), else to the process alone (apps)."""
    try:
        os.killpg(pid, sig)
        return
    except ProcessLookupError:
        pass
    except PermissionError:
        return
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill(pid: int | None) -> None:
    """End a process and what it started (its process group), even when it has already exited itself;
    SIGTERM first, SIGKILL after 5 s."""
    if not pid:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive(pid) and not group_members(pid):
            return
        send(pid, sig)
        for _ in range(50):
            if not alive(pid) and not group_members(pid):
                return
            time.sleep(0.1)


def start_python(service: str, module: str, args: Callable[[int], list[str]], log: Path, record: Record) -> dict:
    """`python -m module args(port)` on a free port, recorded, waited for; ended again if it does not listen."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise StandInError(f"{service}: the Python module {module} is not installed", fix="run `make setup`")
    port = wanted_port(service)
    offset = log_size(log)
    info = {"pid": spawn([sys.executable, "-m", module, *args(port)], log), "port": port}
    record(info)
    try:
        wait_port(service, port, info["pid"], log, offset, FIX_PY)
    except BaseException:
        kill(info["pid"])
        raise
    return info


def start_moto(state_dir: Path, record: Record) -> dict:
    """moto's server: the AWS APIs the platform uses (S3, SNS, SQS, DynamoDB) on 127.0.0.1."""
    return start_python(
        "moto", "moto.server", lambda port: ["-H", "127.0.0.1", "-p", str(port)], state_dir / "moto.log", record
    )


def start_fakesnow(state_dir: Path, record: Record) -> dict:
    """fakesnow's server: a Snowflake endpoint on 127.0.0.1, its databases kept under the state dir."""
    dbdir = state_dir / "fakesnow"
    dbdir.mkdir(parents=True, exist_ok=True)
    return start_python(
        "fakesnow",
        "fakesnow",
        lambda port: ["-s", "--host", "127.0.0.1", "-p", str(port), "-d", str(dbdir)],
        state_dir / "fakesnow.log",
        record,
    )
