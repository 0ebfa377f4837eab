"""The generator's loop: cut batches from the order source at a steady rate and hand them to a writer.

The rate is a token bucket: `rate` events per second on average, written in batches of at least a
tenth of a second's worth and at most `burst` events (one second's worth, at most 50,000, by default).
Up to ten seconds of backlog is kept, so a slow write is caught up in the next batches; a target that
cannot take the rate at all is reported (the run's `behind`). Rate 0 writes as fast as the target
takes, in batches of `burst` (default 50,000).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.progress import TextColumn

from infra.cdc.config import CdcGenerator
from scripts.cdc.source import IdBlocks, OrderSource
from scripts.cdc.writer import Writer
from scripts.core.console import progress_bar

UNTHROTTLED_BATCH = 50_000


class GeneratorError(ValueError):
    """Bad generator input; the message names the option."""


@dataclass
class RunReport:
    target: int = 0  # the rate asked for (0: unthrottled)
    events: int = 0
    batches: int = 0
    seconds: float = 0.0
    paced_seconds: float = 0.0  # when the last batch was cut: the rate owed events up to then
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def behind(self) -> bool:
        """The target did not take the rate asked for: fewer than 95 % of the events owed when the last batch
        was cut (the run's start, with an empty bucket, and its last write do not count against it)."""
        return bool(self.target) and self.events < 0.95 * self.target * self.paced_seconds


def utc_now() -> datetime:
    """CHANGED_AT is UTC wall-clock time without a zone, as TIMESTAMP_NTZ stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def check(rate: int, burst: int | None, duration: float | None, events: int | None) -> None:
    if rate < 0:
        raise GeneratorError(f"--rate must be 0 (as fast as possible) or a positive number of events/s, not {rate}")
    if burst is not None and burst < 1:
        raise GeneratorError(f"--burst must be at least 1 event, not {burst}")
    if duration is not None and duration <= 0:
        raise GeneratorError(f"--duration must be a positive number of seconds, not {duration}")
    if events is not None and events < 1:
        raise GeneratorError(f"--events must be at least 1, not {events}")
    if duration is None and events is None:
        raise GeneratorError("give --duration, --events or both: the generator needs to know when to stop")


def source_for(writer: Writer, cfg: CdcGenerator) -> OrderSource:
    return OrderSource(
        cfg, IdBlocks(lambda: writer.reserve("order_ids")), IdBlocks(lambda: writer.reserve("change_seqs"))
    )


def run(
    source: OrderSource,
    writer: Writer,
    rate: int,
    *,
    burst: int | None = None,
    duration: float | None = None,
    events: int | None = None,
    progress: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> RunReport:
    """Generate and write until `duration` seconds have passed or `events` were written, whichever first."""
    check(rate, burst, duration, events)
    cap = burst or (min(rate, UNTHROTTLED_BATCH) if rate else UNTHROTTLED_BATCH)
    least = max(1, min(cap, rate // 10))  # no one-event batches: at least a tenth of a second's worth
    report, start = RunReport(target=rate), time.perf_counter()
    tokens, last = 0.0, start  # an empty bucket: the first second writes `rate` events, not `burst` more
    with progress_bar(TextColumn("{task.fields[rate]}"), disable=not progress) as bar:
        task = bar.add_task("[bold]changes", total=events, rate="")
        while True:
            now = time.perf_counter()
            if duration is not None and now - start >= duration:
                break
            left = (events - report.events) if events is not None else cap
            if left <= 0:
                break
            if rate:
                tokens = min(float(max(cap, rate * 10)), tokens + (now - last) * rate)  # keep a backlog
                last = now
                n = min(int(tokens), cap, left)
                if n < min(least, left):
                    time.sleep(min((min(least, left) - tokens) / rate, 0.1))
                    continue
                tokens -= n
            else:
                n = min(cap, left)
            report.paced_seconds = now - start
            writer.write(source.batch(n, clock()))
            report.events += n
            report.batches += 1
            elapsed = time.perf_counter() - start
            bar.update(task, completed=report.events, rate=f"{report.events / elapsed:,.0f} events/s")
    report.seconds = time.perf_counter() - start
    report.by_type = dict(source.emitted)
    return report
