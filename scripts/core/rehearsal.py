"""What `make local` gives each capability's rehearsal (`rehearse(run)` in scripts/<cap>/rehearsal.py),
and how a rehearsal runs its capability's own CLI on the stand-ins."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from scripts import standins
from scripts.core.errors import LoadError
from scripts.core.target import ROOT
from scripts.standins import Endpoints
from scripts.standins.apps import Running


@dataclass(frozen=True)
class LocalRun:
    """One `make local`: the stack whose names are used, the running stand-ins, the data's scale and
    the ports the background apps take (by capability)."""

    stack: str
    endpoints: Endpoints
    customers: int = 5000
    ports: dict[str, int] = field(default_factory=dict)


def run_cli(capability: str, *args: str) -> None:
    """`python -m scripts.<capability> <args>` in its own process (its output shown as it comes), so
    a capability's rehearsal runs what an operator runs and imports no other capability."""
    done = subprocess.run([sys.executable, "-m", f"scripts.{capability}", *args], cwd=ROOT, check=False)
    if done.returncode:
        raise LoadError(f"`python -m scripts.{capability} {' '.join(args)}` failed (exit {done.returncode})")


def keep_running(name: str, start: Callable[[int | None], Running], port: int) -> Running:
    """A background app `make local` leaves running: the previous one ended, this one started on `port`
    if free (else any free port) and recorded, so `make stop` ends it too."""
    standins.stop_app(name)
    running = start(port if not standins.port_open(port) else None)
    register_running(name, running)
    return running


def register_running(name: str, running: Running) -> None:
    """Record a started app (its port read from its URL) so `make stop` ends it."""
    standins.register_app(name, running.proc.pid, int(running.url.rsplit(":", 1)[1]))
