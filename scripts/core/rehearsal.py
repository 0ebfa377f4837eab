"""What `make local` gives each capability's rehearsal (`rehearse(run)` in scripts/<cap>/rehearsal.py),
and how a rehearsal runs its capability's own CLI on the stand-ins."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field

from scripts.core.errors import LoadError
from scripts.core.target import ROOT
from scripts.standins import Endpoints


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
