"""How the scripts show progress and results: one console, one progress bar, a rule per step, tables
of row counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from scripts.core.errors import LoadError

console = Console()


def progress_bar(*extra: ProgressColumn, transfer: bool = False, disable: bool = False) -> Progress:
    """A bar per task: done/total and elapsed time, or bytes and speed for a `transfer`; `extra`
    columns (e.g. a task field) after them."""
    counts = (DownloadColumn(), TransferSpeedColumn()) if transfer else (MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(TextColumn("{task.description}"), BarColumn(), *counts, *extra, console=console, disable=disable)


@contextmanager
def step(name: str) -> Iterator[None]:
    """A titled step: its time when it ends, and any failure a LoadError naming the step and the cause
    (the drivers' errors with their type), so the CLI prints one line."""
    start = time.perf_counter()
    console.rule(f"[bold]{name}")
    try:
        yield
    except Exception as e:
        import botocore.exceptions
        import psycopg
        import snowflake.connector.errors

        if isinstance(e, (LoadError, ValueError)):
            raise LoadError(f"step {name!r} failed: {e}") from e
        drivers = (
            snowflake.connector.errors.Error,
            psycopg.Error,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        )
        if isinstance(e, drivers):
            raise LoadError(f"step {name!r} failed ({type(e).__name__}): {e}") from e
        raise
    console.print(f"  {name} done in {time.perf_counter() - start:.1f} s")


def print_counts(counts: dict[str, int], title: str) -> None:
    """Rows per table, with thousands separators."""
    table = Table("table", "rows", title=title)
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    console.print(table)
