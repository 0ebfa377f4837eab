"""The local environment manager: idempotent start, stale pid clean-up, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from scripts import standins
from scripts.standins import postgres


def test_stand_ins_answer_on_loopback(stand_ins):
    assert stand_ins.postgres_dsn.startswith("postgresql://postgres:")  # SCRAM: the stand-in has a password
    with psycopg.connect(stand_ins.postgres_dsn) as conn:
        assert conn.execute("select current_database()").fetchone() == ("retail",)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=stand_ins.moto_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert "Buckets" in s3.list_buckets()
    from scripts.core.connections import connect_local

    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        assert conn.cursor().execute("select 41 + 1").fetchone() == (42,)


def test_second_start_is_a_no_op(stand_ins):
    before = standins._load()
    again = standins.start()
    assert again == stand_ins
    assert standins._load() == before


def test_stale_pid_is_cleaned_up(stand_ins):
    state = standins._load()
    standins.kill(state["moto"]["pid"])
    assert not standins.running(state["moto"])
    ep = standins.start(("moto",))
    new = standins._load()["moto"]
    assert new["pid"] != state["moto"]["pid"] and standins.running(new)
    assert ep.moto_url == f"http://127.0.0.1:{new['port']}"


def test_busy_port_is_a_clear_error(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        monkeypatch.setenv("RDP_MOTO_PORT", str(port))
        with pytest.raises(standins.StandInError, match=f"moto: port {port} .* already in use"):
            standins.wanted_port("moto")


def test_missing_postgres_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(postgres, "find_pg", lambda: None)
    monkeypatch.setattr(standins.os, "geteuid", lambda: 1000)
    with pytest.raises(standins.StandInError, match="no PostgreSQL server binaries"):
        standins.pg_bindir()


def test_endpoints_say_what_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setattr(standins, "STATE_FILE", tmp_path / "state.json")
    with pytest.raises(standins.StandInError, match="not running: postgres, moto, fakesnow"):
        standins.endpoints()


def test_the_cause_is_read_from_the_log(tmp_path):
    log = tmp_path / "postgres.log"
    log.write_text("2026-01-01 10:00:00.000 UTC [1] FATAL:  old failure\n")
    offset = standins.log_size(log)
    with open(log, "a") as f:
        f.write(
            "waiting for server to start....2026-01-01 10:00:01.000 UTC [2] FATAL:  database files are incompatible\n"
        )
        f.write("2026-01-01 10:00:01.000 UTC [2] DETAIL:  initialized by version 7.4\n")
        f.write("pg_ctl: could not start server\nExamine the log output.\n")
    assert (
        standins.last_cause(log, offset) == "FATAL: database files are incompatible DETAIL: initialized by version 7.4"
    )
    err = standins.StandInError(standins.with_cause("postgres: did not start", log, offset), log, "remove it")
    assert str(err) == (
        "postgres: did not start (FATAL: database files are incompatible DETAIL: initialized by version 7.4); "
        f"log: {log}; fix: remove it"
    )
    offset = standins.log_size(log)
    log.write_text(
        log.read_text() + "waiting for server to start....postgres: could not access the server configuration file "
        '"/d/postgresql.conf": No such file or directory\n stopped waiting\npg_ctl: could not start server\n'
    )
    assert standins.last_cause(log, offset) == (
        'postgres: could not access the server configuration file "/d/postgresql.conf": No such file or directory'
    )


def test_a_command_ends_in_one_line_and_keeps_its_options(monkeypatch):
    """How `make local` (scripts.local) and `python -m scripts.api.serve` report a stand-in failure."""
    import typer
    from typer.testing import CliRunner

    app = typer.Typer()

    @app.command()
    @standins.exits_in_one_line
    def main(name: str = typer.Option("postgres")) -> None:
        raise standins.StandInError(f"{name}: did not start", Path("/x/.local/moto.log"), "run it again")

    monkeypatch.delenv("RDP_DEBUG", raising=False)
    out = CliRunner().invoke(app, ["--name", "moto"])
    assert out.exit_code == 1
    assert out.output == "error: moto: did not start; log: /x/.local/moto.log; fix: run it again\n"
    monkeypatch.setenv("RDP_DEBUG", "1")
    out = CliRunner().invoke(app, ["--name", "moto"])
    assert out.exit_code == 1 and "Traceback" in out.output
    assert out.output.endswith("error: moto: did not start; log: /x/.local/moto.log; fix: run it again\n")


def test_an_api_that_cannot_start_is_one_line():
    from scripts.api import serve

    with pytest.raises(standins.StandInError) as e:
        serve.start("no_such_service", {})
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("no_such_service: exited with status 1 before answering /health (")
    assert "(ModuleNotFoundError: No module named 'no_such_service')" in message
    assert f"log: {standins.STATE_DIR}/no_such_service-" in message and "; fix: " in message
