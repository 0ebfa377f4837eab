"""The local incremental refresh recomputes only what changed, and ends where a full recomputation does."""

from __future__ import annotations

from datetime import datetime, timedelta

from infra.cdc import catalog
from infra.cdc.catalog import DYNAMIC_TABLES, fq
from infra.config.reader import stack_config
from scripts.cdc.generate import run, source_for
from scripts.cdc.writer import LocalWriter


def _full_differs(lc, key: str) -> int:
    """Rows in the table or in its query over the whole log that the other lacks (multiset difference)."""
    query = f"SELECT * FROM ({catalog.dynamic_table_sql(lc.db, key)})"
    cur = lc.cursor()
    cur.execute(f"SELECT COUNT(*) FROM (SELECT * FROM {fq(lc.db, key)} EXCEPT ALL {query})")
    extra = int(cur.fetchone()[0])
    cur.execute(f"SELECT COUNT(*) FROM ({query} EXCEPT ALL SELECT * FROM {fq(lc.db, key)})")
    return extra + int(cur.fetchone()[0])


def _log(lc) -> tuple[int, int]:
    """The log's newest CHANGE_SEQ and how many orders it holds."""
    cur = lc.cursor()
    cur.execute(f"SELECT COALESCE(MAX(CHANGE_SEQ), 0), COUNT(DISTINCT ORDER_ID) FROM {fq(lc.db, 'changes')}")
    return tuple(int(v) for v in cur.fetchone())


def _orders_changed_after(lc, seq: int) -> int:
    cur = lc.cursor()
    cur.execute(f"SELECT COUNT(DISTINCT ORDER_ID) FROM {fq(lc.db, 'changes')} WHERE CHANGE_SEQ > %s", (seq,))
    return int(cur.fetchone()[0])


def test_incremental_refreshes_of_100k_random_changes_equal_a_full_recomputation(cdc):
    lc, writer = cdc
    cfg = stack_config("dev").cdc.generator.model_copy(update={"seed": 7, "history_days": 60})
    source = source_for(writer, cfg)
    clock = iter(datetime(2026, 11, 1) + timedelta(minutes=i) for i in range(1_000))
    run(source, writer, 0, events=40_000, burst=10_000, clock=lambda: next(clock))
    assert lc.refresh().mode == "FULL"
    for round_events in (30_000, 20_000, 9_000, 1_000):
        head, _ = _log(lc)  # one writer: this round's changes are the ones above the head
        run(source, writer, 0, events=round_events, burst=5_000, clock=lambda: next(clock))
        r = lc.refresh()
        assert r.mode == "INCREMENTAL" and r.changes_read == round_events
        # counted: exactly the orders with a change in the round were recomputed, not the whole table
        assert r.orders_recomputed == _orders_changed_after(lc, head) < _log(lc)[1]
    assert sum(source.emitted.values()) == 100_000
    for key in DYNAMIC_TABLES:
        assert _full_differs(lc, key) == 0, key


def test_a_small_round_recomputes_a_few_orders_and_groups(cdc):
    lc, writer = cdc
    cfg = stack_config("dev").cdc.generator.model_copy(update={"seed": 3, "history_days": 0})
    source = source_for(writer, cfg)
    run(source, writer, 0, events=20_000)
    lc.refresh()
    run(source, writer, 0, events=10)
    r = lc.refresh()
    assert r.changes_read == 10 and r.orders_recomputed <= 10
    # every order is dated now (history_days 0): at most one month, so the groups touched are few
    assert r.groups_recomputed <= 2 * 4
    for key in DYNAMIC_TABLES:
        assert _full_differs(lc, key) == 0, key


def test_a_slower_writer_with_a_lower_sequence_block_is_not_missed(cdc):
    """Two writers reserve blocks in one order and commit in the other: nothing is skipped."""
    lc, first_writer = cdc
    second_writer = LocalWriter(first_writer.conn, lc.db)
    cfg = stack_config("dev").cdc.generator
    slow, fast = source_for(first_writer, cfg), source_for(second_writer, cfg.model_copy(update={"seed": 9}))
    late = slow.batch(2_000, datetime(2026, 11, 2))  # reserves the lower blocks, written later
    run(fast, second_writer, 0, events=3_000)
    lc.refresh()
    first_writer.write(late)
    r = lc.refresh()
    assert r.mode == "INCREMENTAL" and r.changes_read == 2_000 and r.orders_recomputed > 0
    for key in DYNAMIC_TABLES:
        assert _full_differs(lc, key) == 0, key


def test_changes_logged_after_a_refresh_wait_for_the_next_one(cdc):
    lc, writer = cdc
    source = source_for(writer, stack_config("dev").cdc.generator)
    run(source, writer, 0, events=1_000)
    first = lc.refresh()
    run(source, writer, 0, events=500)
    second = lc.refresh()
    assert (first.changes_read, second.changes_read) == (1_000, 500)
    assert lc.refresh().mode == "NO_DATA"
