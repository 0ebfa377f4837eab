"""The stand-ins as a new user meets them: a checkout only its owner may enter (as root when the suite runs
as root), a PostgreSQL that cannot start, a stand-in that dies leaving a child behind. Each runs the
command line in a process of its own, with a state dir of its own."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from scripts import standins
from tests.conftest import ROOT

IGNORE = shutil.ignore_patterns(".git", ".venv", ".local", "__pycache__", "artifacts", ".*_cache")


def cli(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """`python -m scripts.standins ARGS` with the environment of a user who set no RDP_* variable."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RDP_")}
    return subprocess.run(
        [sys.executable, "-m", "scripts.standins", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def server_processes(data: Path) -> list[str]:
    """Command lines of processes that serve this data directory."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if str(data) in args:
            found.append(" ".join(args))
    return found


@pytest.fixture
def private_checkout():
    """A copy of this checkout inside a mode-0700 directory (as `mktemp -d` and root's home are)."""
    base = Path(tempfile.mkdtemp(prefix="rdp-private-"))
    os.chmod(base, 0o700)
    checkout = base / "retail-data-platform"
    shutil.copytree(ROOT, checkout, ignore=IGNORE, symlinks=True)
    yield checkout
    cli("clean", cwd=checkout)
    shutil.rmtree(base, ignore_errors=True)


def test_start_and_stop_from_a_checkout_only_its_owner_may_enter(private_checkout):
    base_before = os.stat(private_checkout.parent)
    started = cli("start", cwd=private_checkout)
    assert started.returncode == 0, started.stderr
    env = dict(line.split("=", 1) for line in started.stdout.splitlines())
    with psycopg.connect(env["RDP_PG_DSN"]) as conn:
        assert conn.execute("select current_database()").fetchone() == ("retail",)

    state_dir = private_checkout / ".local"
    state = json.loads((state_dir / "state.json").read_text())
    data = standins.pg_data_dir(state_dir)
    assert state["postgres"]["data"] == str(data)
    if os.geteuid() == 0:  # the server runs as postgres, its data where postgres can reach it
        assert not data.is_relative_to(private_checkout.parent)
        assert data.stat().st_uid == pwd.getpwnam("postgres").pw_uid
    status = cli("status", cwd=private_checkout).stdout
    assert status.count(" running ") == 3 and f"data={data}" in status

    stopped = cli("stop", cwd=private_checkout)
    assert stopped.returncode == 0 and stopped.stdout == "stopped\n"
    for service in standins.SERVICES:
        assert not standins.alive(state[service]["pid"]), service
        assert not standins.port_open(state[service]["port"]), service
    assert not server_processes(data)
    assert cli("status", cwd=private_checkout).stdout.count(" stopped") == 3
    # Nothing outside the project's state was opened up: the private directory is as it was.
    base_after = os.stat(private_checkout.parent)
    assert stat.S_IMODE(base_after.st_mode) == 0o700
    assert (base_after.st_uid, base_after.st_gid) == (base_before.st_uid, base_before.st_gid)
    assert (state_dir.stat().st_uid, (state_dir / "postgres.log").stat().st_uid) == (os.geteuid(), os.geteuid())


def test_a_postgres_that_cannot_start_says_why_in_one_line(tmp_path):
    state_dir = tmp_path / "state"
    data = standins.pg_data_dir(state_dir)
    data.mkdir(mode=0o700, parents=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    (data / "PG_VERSION").write_text("7.4\n")  # a data directory PostgreSQL cannot use
    (data / "postgresql.conf").write_text("")
    try:
        failed = cli("start", RDP_LOCAL_DIR=str(state_dir))
        assert failed.returncode == 1
        assert failed.stdout == ""
        assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
        line = failed.stderr.strip()
        assert line.startswith("error: postgres: did not start (FATAL: database files are incompatible with server")
        assert f"; log: {state_dir / 'postgres.log'}; fix: " in line and str(data) in line.split("; fix: ")[1]

        debug = cli("start", RDP_LOCAL_DIR=str(state_dir), RDP_DEBUG="1")
        assert debug.returncode == 1 and "Traceback" in debug.stderr
        assert debug.stderr.splitlines()[-1].startswith("error: postgres: did not start (FATAL: database files")
        verbose = cli("start", "--verbose", RDP_LOCAL_DIR=str(state_dir))
        assert verbose.returncode == 1 and "Traceback" in verbose.stderr

        assert cli("stop", RDP_LOCAL_DIR=str(state_dir)).returncode == 0
        assert not server_processes(data)
        assert "postgres  stopped" in cli("status", RDP_LOCAL_DIR=str(state_dir)).stdout
    finally:
        shutil.rmtree(data, ignore_errors=True)


FAKE_SERVER = """
import os, subprocess, sys
if __name__ == "__main__":
    child = subprocess.Popen(["sleep", "300"])
    with open(os.environ["FAKE_CHILD_PID"], "w") as f:
        f.write(str(child.pid))
    sys.exit("OSError: [Errno 98] Address already in use")
"""


def test_a_stand_in_that_dies_leaves_no_process_behind(tmp_path):
    """moto stands in for any of them: it exits before listening, leaving a child in its process group."""
    fake = tmp_path / "fake" / "moto"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "server.py").write_text(FAKE_SERVER)
    child_pid = tmp_path / "child.pid"
    env = {"RDP_LOCAL_DIR": str(tmp_path / "state"), "PYTHONPATH": str(fake.parent), "FAKE_CHILD_PID": str(child_pid)}
    failed = cli("start", "moto", **env)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    line = failed.stderr.strip()
    assert "\n" not in line and line.startswith("error: moto: exited before listening on 127.0.0.1:")
    assert f"(OSError: [Errno 98] Address already in use); log: {tmp_path / 'state' / 'moto.log'}; fix: " in line
    assert not standins.alive(int(child_pid.read_text()))
    assert cli("stop", **env).returncode == 0
    assert "moto      stopped" in cli("status", **env).stdout
