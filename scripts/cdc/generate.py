"""The generator's loop: cut batches from the order source at a steady rate and hand them to a writer.

The rate is a token bucket: `rate` events per second on average, at most `burst` events in one batch
(one second's worth by default), so a slow write is caught up in bigger batches rather than lost.
Rate 0 writes as fast as the target takes, in batches of `burst` (default 50,000).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from infra.config import CdcGenerator
from scripts.cdc.source import IdBlocks, OrderSource
from scripts.cdc.writer import Writer

UNTHROTTLED_BATCH = 50_000


class GeneratorError(ValueError):
    """Bad generator input; the message names the option."""


@dataclass
class RunReport:
    events: int = 0
    batches: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


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
    cap = burst or (rate if rate else UNTHROTTLED_BATCH)
    report, start = RunReport(), time.perf_counter()
    tokens, last = 0.0, start  # an empty bucket: the first second writes `rate` events, not `burst` more
    bar = Progress(TextColumn("[bold]changes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[rate]}"), disable=not progress)  # fmt: skip
    with bar:
        task = bar.add_task("generate", total=events, rate="")
        while True:
            now = time.perf_counter()
            if duration is not None and now - start >= duration:
                break
            left = (events - report.events) if events is not None else cap
            if left <= 0:
                break
            if rate:
                tokens = min(float(cap), tokens + (now - last) * rate)
                last = now
                n = min(int(tokens), left)
                if n < 1:
                    time.sleep(min((1 - tokens) / rate, 0.05))
                    continue
                tokens -= n
            else:
                n = min(cap, left)
            writer.write(source.batch(n, clock()))
            report.events += n
            report.batches += 1
            elapsed = time.perf_counter() - start
            bar.update(task, completed=report.events, rate=f"{report.events / elapsed:,.0f} events/s")
    report.seconds = time.perf_counter() - start
    report.by_type = dict(source.emitted)
    return report
