"""The platform's own local processes (the API, the dashboard): started on 127.0.0.1, waited for on a
health URL, and ended with a clear one-line error when they never answer.

Each runs in a session (and process group) of its own, as the stand-ins do: a server with several
workers is a supervisor and its children, and ending the group ends all of them, also when the
supervisor itself was killed first and left its workers behind."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from scripts.standins import STATE_DIR, StandInError, free_port, kill, log_size, with_cause

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    proc: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        """End the process and its whole group (the workers of a server): SIGTERM, SIGKILL after 5 s."""
        kill(self.proc.pid)
        self.proc.wait(5)


def start_http(name: str, cmd: list[str], env: dict[str, str], port: int | None, health: str, fix: str) -> Running:
    """Run `cmd` (which must listen on 127.0.0.1:{port}) with the project root on PYTHONPATH, and wait up
    to 60 s for `health` to answer 200. `{port}` in `cmd` is filled with a free port when none is given."""
    port = port or free_port()
    log = STATE_DIR / f"{name}-{port}.log"
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    offset = log_size(log)
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [part.format(port=port) for part in cmd],
            env={**os.environ, **env, "PYTHONPATH": pythonpath},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            # a health check may wait on a backend that is down (the API's Postgres pool waits a second)
            if httpx.get(f"{running.url}{health}", timeout=5).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    exited = proc.poll()
    running.stop()
    what = (
        f"{name}: no answer on {running.url}{health} within 60 s"
        if exited is None
        else f"{name}: exited with status {exited} before answering {health}"
    )
    raise StandInError(with_cause(what, log, offset), log, fix)
