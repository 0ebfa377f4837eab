"""The local environment manager: idempotent start, stale pid clean-up, clear errors."""

from __future__ import annotations

import socket

import psycopg
import pytest

from scripts import localenv


def test_stand_ins_answer_on_loopback(stand_ins):
    assert stand_ins.postgres_dsn.startswith("postgresql://postgres@127.0.0.1:")
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
    from scripts.snowconn import connect_local

    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        assert conn.cursor().execute("select 41 + 1").fetchone() == (42,)


def test_second_start_is_a_no_op(stand_ins):
    before = localenv._load()
    again = localenv.start()
    assert again == stand_ins
    assert localenv._load() == before


def test_stale_pid_is_cleaned_up(stand_ins):
    state = localenv._load()
    localenv._kill(state["moto"]["pid"])
    assert not localenv._running(state["moto"])
    ep = localenv.start(("moto",))
    new = localenv._load()["moto"]
    assert new["pid"] != state["moto"]["pid"] and localenv._running(new)
    assert ep.moto_url == f"http://127.0.0.1:{new['port']}"


def test_busy_port_is_a_clear_error(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        monkeypatch.setenv("RDP_MOTO_PORT", str(port))
        with pytest.raises(localenv.LocalEnvError, match=f"moto: port {port} .* already in use"):
            localenv._wanted_port("moto")


def test_missing_postgres_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(localenv, "_find_pg", lambda: None)
    monkeypatch.setattr(localenv.os, "geteuid", lambda: 1000)
    with pytest.raises(localenv.LocalEnvError, match="no PostgreSQL server binaries"):
        localenv.pg_bindir()


def test_endpoints_say_what_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setattr(localenv, "STATE_FILE", tmp_path / "state.json")
    with pytest.raises(localenv.LocalEnvError, match="not running: postgres, moto, fakesnow"):
        localenv.endpoints()
