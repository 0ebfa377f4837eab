"""The local environment manager: idempotent start, stale pid clean-up, clear errors."""

from __future__ import annotations

import socket

import psycopg
import pytest

from scripts import standins


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
    from scripts.connections import connect_local

    with connect_local(stand_ins.snowflake_host, stand_ins.snowflake_port) as conn:
        assert conn.cursor().execute("select 41 + 1").fetchone() == (42,)


def test_second_start_is_a_no_op(stand_ins):
    before = standins._load()
    again = standins.start()
    assert again == stand_ins
    assert standins._load() == before


def test_stale_pid_is_cleaned_up(stand_ins):
    state = standins._load()
    standins._kill(state["moto"]["pid"])
    assert not standins._running(state["moto"])
    ep = standins.start(("moto",))
    new = standins._load()["moto"]
    assert new["pid"] != state["moto"]["pid"] and standins._running(new)
    assert ep.moto_url == f"http://127.0.0.1:{new['port']}"


def test_busy_port_is_a_clear_error(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        monkeypatch.setenv("RDP_MOTO_PORT", str(port))
        with pytest.raises(standins.StandInError, match=f"moto: port {port} .* already in use"):
            standins._wanted_port("moto")


def test_missing_postgres_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(standins, "_find_pg", lambda: None)
    monkeypatch.setattr(standins.os, "geteuid", lambda: 1000)
    with pytest.raises(standins.StandInError, match="no PostgreSQL server binaries"):
        standins.pg_bindir()


def test_endpoints_say_what_is_not_running(tmp_path, monkeypatch):
    monkeypatch.setattr(standins, "STATE_FILE", tmp_path / "state.json")
    with pytest.raises(standins.StandInError, match="not running: postgres, moto, fakesnow"):
        standins.endpoints()
