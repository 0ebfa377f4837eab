"""The serving stores never go empty or shrink by accident: before a sync switches its tables live, and
before an export deletes DynamoDB items, the new counts are checked against the config's floors and
the live data. A broken upstream (an empty query, a filter that drops most rows) then stops the load
instead of serving 404s; a shrink that is real goes through with `--allow-shrink`, logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infra.serving.config import SyncGuardConfig
from scripts.core.console import console
from scripts.core.errors import LoadError

ALLOW = "re-run with --allow-shrink to accept"


class ShrinkError(LoadError):
    """A load refused because it would empty or shrink a serving store beyond its config."""


def sync_problems(
    staged: Mapping[str, int], live: Mapping[str, int], guard: SyncGuardConfig, what: str = "staged"
) -> list[str]:
    """What is wrong with putting `staged` rows live over `live` ones, one phrase per table (`what`: how
    those rows came, staged by a sync or kept to roll back to)."""
    problems = []
    for table, n in staged.items():
        before = live.get(table, 0)
        if n < guard.floor(table):
            key = f"postgres.sync.minRows.{table}" if table in guard.min_rows else "postgres.sync.minRows (default)"
            problems.append(f"{table}: {n:,} rows {what}, fewer than {key} = {guard.floor(table):,} (live: {before:,})")
        elif before and n < (1 - guard.max_shrink) * before:
            problems.append(
                f"{table}: {n:,} rows {what} against {before:,} live, a {1 - n / before:.0%} shrink beyond "
                f"postgres.sync.maxShrink = {guard.max_shrink:g}"
            )
    return problems


def delete_problem(table: str, deleting: int, live: int, max_share: float) -> str | None:
    """Why deleting `deleting` of the `live` items is too many, or None."""
    if not live or deleting <= max_share * live:
        return None
    return (
        f"DynamoDB {table}: the export would delete {deleting:,} of the {live:,} items in the table "
        f"({deleting / live:.0%}), more than dynamodb.maxDeleteShare = {max_share:g}"
    )


def enforce(problems: Sequence[str], allow_shrink: bool, unchanged: str) -> None:
    """Refuse (one ShrinkError naming every problem and that `unchanged` is untouched) or, with
    `--allow-shrink`, warn and go on."""
    if not problems:
        return
    if allow_shrink:
        for p in problems:
            console.print(f"[yellow]warning:[/yellow] --allow-shrink: {p}")
        return
    raise ShrinkError(f"{'; '.join(problems)}; {unchanged}; {ALLOW}")
