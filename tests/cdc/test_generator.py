"""The order change generator: deterministic by seed, the configured mix, forward-only statuses, valid
amounts, growing ids; and its CLI's errors."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

import pytest
from typer.testing import CliRunner

from infra.cdc.catalog import NEXT_STATUSES, STATUSES
from infra.cdc.config import CdcMix
from infra.config.reader import stack_config
from scripts.cdc.__main__ import app
from scripts.cdc.generate import GeneratorError, check, run
from scripts.cdc.source import IdBlocks, OrderSource, counter

NOW = datetime(2026, 11, 23, 12, 0)


def _source(**changes) -> OrderSource:
    cfg = stack_config("dev").cdc.generator.model_copy(update=changes)
    return OrderSource(cfg, IdBlocks(counter()), IdBlocks(counter()))


def test_the_same_seed_gives_the_same_changes_and_another_seed_others():
    a, b, c = _source(seed=5).batch(20_000, NOW), _source(seed=5).batch(20_000, NOW), _source(seed=6).batch(20_000, NOW)
    assert a.equals(b) and not a.equals(c)


@pytest.mark.parametrize("mix", [(0.7, 0.25, 0.05), (0.5, 0.4, 0.1), (0.9, 0.1, 0.0)])
def test_the_mix_is_within_two_percent_of_the_configured_shares(mix):
    shares = dict(zip(("INSERT", "UPDATE", "DELETE"), mix, strict=True))
    batch = _source(mix=CdcMix(insert=mix[0], update=mix[1], delete=mix[2])).batch(100_000, NOW)
    counts = Counter(batch.column("CHANGE_TYPE").to_pylist())
    for kind, share in shares.items():
        assert abs(counts[kind] / 100_000 - share) <= 0.02, (kind, counts)


def test_statuses_only_move_forward_and_amounts_keep_their_cents():
    rows = _source(seed=1).batch(100_000, NOW).to_pylist()
    history: dict[int, list[str]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["CHANGE_SEQ"]):
        assert r["AMOUNT"] >= 0 and r["AMOUNT"] == r["AMOUNT"].quantize(Decimal("0.01"))
        assert r["STATUS"] in STATUSES
        if r["CHANGE_TYPE"] == "INSERT":
            assert not history[r["ORDER_ID"]], "an order id is inserted once"
            assert r["STATUS"] == "PENDING"
        history[r["ORDER_ID"]].append(r["STATUS"])
    moves = 0
    for statuses in history.values():
        for before, after in pairwise(statuses):
            assert after == before or after in NEXT_STATUSES.get(before, ()), statuses
            moves += after != before
    assert moves > 10_000  # orders do move: shipped, delivered and cancelled all happen
    assert {"SHIPPED", "DELIVERED", "CANCELLED"} <= {s for h in history.values() for s in h}


def test_order_ids_and_change_sequence_grow_across_blocks():
    batch = _source().batch(150_000, NOW)  # more changes than one block of sequence values
    seqs = batch.column("CHANGE_SEQ").to_pylist()
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[-1] > 100_000
    inserted = [r["ORDER_ID"] for r in batch.to_pylist() if r["CHANGE_TYPE"] == "INSERT"]
    assert inserted == sorted(inserted) and len(set(inserted)) == len(inserted)


class _Memory:
    def __init__(self) -> None:
        self.rows = 0
        self.reserve = counter()

    def write(self, batch) -> None:
        self.rows += batch.num_rows


def test_the_rate_is_kept_and_a_batch_never_exceeds_the_burst():
    source, sink = _source(), _Memory()
    report = run(source, sink, 2_000, burst=500, duration=1.0)
    assert sink.rows == report.events and report.batches >= report.events / 500
    assert report.events / report.batches >= 200  # at least a tenth of a second's worth per batch
    assert not report.behind
    assert 1_600 <= report.events <= 2_200  # about a second at 2,000 events/s


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, None, 5.0, None), "--rate"),
        ((10, 0, 5.0, None), "--burst"),
        ((10, None, -2.0, None), "--duration"),
        ((10, None, None, 0), "--events"),
        ((10, None, None, None), "--duration, --events"),
    ],
)
def test_bad_generator_input_names_the_option(args, message):
    with pytest.raises(GeneratorError, match=message):
        check(*args)


def test_cli_refuses_a_negative_rate_and_an_unknown_stack():
    runner = CliRunner()
    bad_rate = runner.invoke(app, ["generate", "--local", "--rate", "-5", "--events", "10"])
    assert bad_rate.exit_code != 0 and "--rate" in bad_rate.output
    bad_stack = runner.invoke(app, ["generate", "--stack", "nope", "--events", "10"])
    assert bad_stack.exit_code == 1 and "nope" in bad_stack.output and "Traceback" not in bad_stack.output


def test_cli_says_the_stand_in_is_not_running(monkeypatch, tmp_path):
    from scripts import standins

    monkeypatch.setattr(standins, "STATE_FILE", tmp_path / "state.json")  # where nothing was started
    result = CliRunner().invoke(app, ["generate", "--local", "--events", "10"])
    assert result.exit_code == 1 and "not running" in result.output and "Traceback" not in result.output


def test_a_long_run_forgets_old_orders_within_its_window_and_keeps_going():
    source = OrderSource(stack_config("dev").cdc.generator, IdBlocks(counter()), IdBlocks(counter()), window=1_000)
    rows = source.batch(50_000, NOW).to_pylist()
    assert len(source.live) <= 1_000 and len(source.orders) <= 1_000
    assert Counter(r["CHANGE_TYPE"] for r in rows)["INSERT"] > 30_000


class _RecordingCursor:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, params=None) -> None:
        self.statements.append(sql)

    def fetchone(self) -> tuple:
        return (1,)


class _RecordingConnection:
    def __init__(self) -> None:
        self.cur = _RecordingCursor()

    def cursor(self) -> _RecordingCursor:
        return self.cur


def test_the_stack_writer_puts_a_parquet_file_to_the_stage_and_copies_it_by_column_name():
    from scripts.cdc.writer import StageWriter

    conn = _RecordingConnection()
    writer = StageWriter(conn, "RDP_DEV_RETAIL")
    source = OrderSource(
        stack_config("dev").cdc.generator,
        IdBlocks(lambda: writer.reserve("order_ids")),
        IdBlocks(lambda: writer.reserve("change_seqs")),
    )
    batch = source.batch(10, NOW)
    writer.write(batch)
    reserve, reserve2, put, copy = conn.cur.statements
    assert reserve == 'SELECT "RDP_DEV_RETAIL"."BRONZE"."ORDER_ID_BLOCKS".NEXTVAL'
    assert reserve2 == 'SELECT "RDP_DEV_RETAIL"."BRONZE"."ORDER_CHANGE_SEQ_BLOCKS".NEXTVAL'
    folder = put.split("/")[-1].split()[0]
    assert put.startswith("PUT 'file:///") and '@"RDP_DEV_RETAIL"."BRONZE"."ORDER_CHANGES_STAGE"/batch-1 ' in put
    assert copy.startswith('COPY INTO "RDP_DEV_RETAIL"."BRONZE"."ORDER_CHANGES"') and folder in copy
    assert "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" in copy and "PURGE = TRUE" in copy
    assert not list(writer.tmp.iterdir())  # the local file is removed after the load
    writer.write(batch)  # a retry names the same file, which COPY's load history skips
    assert conn.cur.statements[-2:] == [put, copy]


class _SlowSink(_Memory):
    def write(self, batch) -> None:
        import time

        time.sleep(0.3)
        super().write(batch)


def test_a_slow_target_is_caught_up_in_bigger_batches_or_reported_behind():
    caught_up = run(_source(), _SlowSink(), 1_000, burst=5_000, duration=2.0)
    assert not caught_up.behind and caught_up.events >= 1_700  # about 2 s at 1,000/s, in few big batches
    assert caught_up.batches <= 10
    behind = run(_source(), _SlowSink(), 1_000, burst=100, duration=1.5)  # 100 per 0.3 s cannot make 1,000/s
    assert behind.behind and behind.rate < 500
