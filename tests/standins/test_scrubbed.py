"""The stand-ins on a shared runner: another OS user reaches 127.0.0.1 too, so PostgreSQL asks for a
password and starts with none of the job's credentials in its environment."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import psycopg
import pytest

from scripts.standins import postgres
from scripts.standins.processes import scrubbed_env

PLANTED = "planted-private-key-7f3c9a"
STEAL = "COPY loot FROM PROGRAM 'printenv SNOWFLAKE_PRIVATE_KEY; printenv AWS_SECRET_ACCESS_KEY; true'"
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another OS user needs root (runuser)")


@pytest.fixture
def planted_server(tmp_path, monkeypatch):
    """A stand-in PostgreSQL of its own, started from a job environment that holds (fake) credentials."""
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY", PLANTED)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PLANTED)
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED)
    state = tmp_path / "state"
    info: dict = {}
    info.update(postgres.start_postgres(state, info.update))
    try:
        yield state, info
    finally:
        postgres.stop_postgres(info)
        postgres.remove_data(state)


def _psql_as(user: str, port: int, sql: str, password: str | None = None) -> subprocess.CompletedProcess:
    psql = str(Path(postgres.pg_bindir()) / "psql")
    env = {"PATH": os.environ["PATH"], **({"PGPASSWORD": password} if password else {})}
    cmd = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-w", "-c", sql]
    return subprocess.run(["runuser", "-u", user, "--", *cmd], capture_output=True, text=True, env=env, timeout=60)


def test_the_environment_a_stand_in_gets_holds_no_credentials(monkeypatch):
    for name in ("SNOWFLAKE_PRIVATE_KEY", "AWS_SESSION_TOKEN", "PULUMI_ACCESS_TOKEN", "GITHUB_TOKEN", "PGPASSWORD"):
        monkeypatch.setenv(name, PLANTED)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", PLANTED)
    env = scrubbed_env({"EXTRA": "1"})
    assert PLANTED not in env.values()
    assert env["EXTRA"] == "1" and env["PATH"] == os.environ["PATH"]


@root_only
def test_another_user_cannot_read_the_jobs_credentials(planted_server):
    _, info = planted_server
    pwd.getpwnam("nobody")
    out = _psql_as("nobody", info["port"], STEAL)
    assert out.returncode != 0, out.stdout
    assert "password" in out.stderr  # refused at authentication: trust is gone
    assert PLANTED not in out.stdout + out.stderr


@root_only
def test_a_superuser_session_finds_no_credential_in_the_servers_environment(planted_server):
    state, info = planted_server
    environ = Path(f"/proc/{info['pid']}/environ").read_bytes().decode(errors="replace")
    assert PLANTED not in environ
    with psycopg.connect(postgres.dsn(state, info["port"], "postgres"), autocommit=True) as conn:
        conn.execute("CREATE TABLE loot (line text)")
        conn.execute(STEAL)
        assert conn.execute("SELECT count(*) FROM loot WHERE line LIKE %s", (f"%{PLANTED}%",)).fetchone() == (0,)


@root_only
def test_the_password_stays_with_the_state_dir(planted_server):
    state, info = planted_server
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    assert oct((state / postgres.PASSWORD_FILE).stat().st_mode & 0o777) == "0o600"
    assert _psql_as("nobody", info["port"], "select 1", password="wrong").returncode != 0
    assert _psql_as("nobody", info["port"], "select 1", password=postgres.password(state)).returncode == 0
