"""Readers that query the live serving table while a test swaps or rolls it back, and what they saw."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tests.conftest import SCHEMA


@contextmanager
def propensity_readers(dsn: str, count: int = 1) -> Iterator[set[tuple]]:
    """`count` threads read (rows, average score) of customer_propensity until the block ends; yields the
    set of states they saw, and fails if any reader hit an error (a missing or half-swapped table)."""
    seen: set[tuple] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not stop.is_set():
                    n, avg = conn.execute(
                        f"SELECT count(*), round(avg(propensity_score)::numeric, 3) FROM {SCHEMA}.customer_propensity"
                    ).fetchone()
                    seen.add((n, float(avg)))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(count)]
    for th in threads:
        th.start()
    try:
        yield seen
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert not errors, errors
