"""Shared fixtures: the offline plans of each stack and the local stand-ins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The suite's stand-ins live apart from a developer's `make local` ones.
os.environ.setdefault("RDP_LOCAL_DIR", tempfile.mkdtemp(prefix="rdp-test-local-"))
STACKS = ("dev", "prod")


def run_plan_json(stack: str) -> list[dict]:
    """The plan of a stack from a fresh interpreter, as `python -m infra.plan` prints it."""
    out = subprocess.run(
        [sys.executable, "-m", "infra.plan", "--stack", stack, "--format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def plans() -> dict[str, list[dict]]:
    return {s: run_plan_json(s) for s in STACKS}


@pytest.fixture(scope="session")
def stand_ins():
    from scripts import localenv

    if os.geteuid() == 0:
        os.chmod(localenv.STATE_DIR, 0o755)
    ep = localenv.start()
    yield ep
    localenv.stop()


def by_type(plan: list[dict], suffix: str) -> list[dict]:
    return [r for r in plan if r["type"].endswith(suffix)]


def one(plan: list[dict], name: str) -> dict:
    found = [r for r in plan if r["name"] == name]
    assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
    return found[0]
