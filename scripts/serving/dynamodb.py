"""Export USER_PRODUCT_RECOMMENDATIONS to the DynamoDB table `product_recommendations` (what the website reads).

Idempotent by construction: one item per user keyed by `user_id`, so a re-run overwrites each item
and never duplicates. Convergent: after every item is written, a parallel scan of the keys finds the
users that are no longer in the export and their items are deleted, so the table holds exactly the
exported users. Writing first and deleting last means a reader never misses a current user, and a
run killed anywhere leaves old and new items only, which the next run converges. Guarded: an export
that would delete more than the configured share of the items is refused before it deletes any. Fast by
construction: batches of 25 go out from a thread pool, and unprocessed requests are retried with
exponential backoff and jitter (tenacity) until done or the retries run out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tenacity import RetryError, retry, retry_if_result, stop_after_attempt, wait_random_exponential

from infra.sqlfiles import SQL_DIR, load_module
from scripts.core.errors import LoadError
from scripts.serving import floor

# The stored procedure's handler: the items are built by the code the scheduled export runs in Snowflake.
HANDLER = load_module(SQL_DIR / "serving" / "export_dynamodb.py")
BATCH = HANDLER.BATCH


class ExportError(LoadError):
    """A DynamoDB export problem, worded with the item or batch at fault."""


def build_items(rows: Iterable[Sequence]) -> list[dict]:
    """Group (user_id, rank, product_id, category_id, purchase_count, source) rows into one item per user
    (the scheduled export's own code, sql/serving/export_dynamodb.py)."""
    try:
        return HANDLER.build_items(rows)
    except HANDLER.ItemError as e:
        raise ExportError(str(e)) from None


def to_attr(item: dict) -> dict:
    """Plain item → DynamoDB attribute-value JSON (the low-level client's wire format)."""
    return HANDLER.to_attr(item)


def write_parallel(
    client: Any,
    table: str,
    items: Sequence[dict],
    workers: int = 8,
    max_attempts: int = 8,
    progress: Callable[[int], None] | None = None,
) -> int:
    """BatchWriteItem from a thread pool; unprocessed items are retried with backoff."""
    requests = [{"PutRequest": {"Item": to_attr(i)}} for i in items]
    return _send_parallel(client, table, requests, workers, max_attempts, progress)


def delete_parallel(client: Any, table: str, user_ids: Sequence[int], workers: int = 8, max_attempts: int = 8) -> int:
    """Delete the items of these users, batched and retried as the writes are."""
    requests = [{"DeleteRequest": {"Key": {"user_id": {"N": str(u)}}}} for u in user_ids]
    return _send_parallel(client, table, requests, workers, max_attempts, None)


def scan_user_ids(client: Any, table: str, segments: int = 4) -> set[int]:
    """Every user_id in the table: a parallel scan of the keys only."""

    def segment(n: int) -> set[int]:
        found: set[int] = set()
        kwargs: dict[str, Any] = {
            "TableName": table,
            "ProjectionExpression": "user_id",
            "Segment": n,
            "TotalSegments": segments,
        }
        while True:
            page = client.scan(**kwargs)
            found.update(int(it["user_id"]["N"]) for it in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return set().union(*pool.map(segment, range(segments)))


def export_items(
    client: Any,
    table: str,
    items: Sequence[dict],
    *,
    max_delete_share: float = 1.0,
    allow_shrink: bool = False,
    **sending: Any,
) -> tuple[int, int]:
    """Make the table hold exactly `items`: write them all, then delete the items of other users.
    `sending` is write_parallel's (workers, max_attempts, progress).

    Returns (written, deleted). An empty export is refused: it would empty the table the website reads.
    So is one that would delete more than `max_delete_share` of the table's items (checked before any
    delete; the writes never drop a user), unless `allow_shrink`.
    """
    if not items:
        raise ExportError("no recommendations to export; refusing to delete every item of the table")
    written = write_parallel(client, table, items, **sending)
    workers, max_attempts = sending.get("workers", 8), sending.get("max_attempts", 8)
    present = scan_user_ids(client, table, max(1, workers))
    stale = sorted(present - {int(i["user_id"]) for i in items})
    problem = floor.delete_problem(table, len(stale), len(present), max_delete_share)
    floor.enforce([problem] if problem else [], allow_shrink, "nothing was deleted (the export's items are written)")
    return written, delete_parallel(client, table, stale, workers, max_attempts)


def _send_parallel(
    client: Any,
    table: str,
    requests: list[dict],
    workers: int,
    max_attempts: int,
    progress: Callable[[int], None] | None,
) -> int:
    batches = [requests[k : k + BATCH] for k in range(0, len(requests), BATCH)]

    def send(batch: list[dict]) -> int:
        pending = {table: batch}

        @retry(
            retry=retry_if_result(bool),
            wait=wait_random_exponential(multiplier=0.05, max=5),
            stop=stop_after_attempt(max_attempts),
        )
        def attempt() -> dict:
            nonlocal pending
            resp = client.batch_write_item(RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}
            return pending

        try:
            attempt()
        except RetryError:
            left = len(pending.get(table, []))
            raise ExportError(
                f"{left} item(s) still unprocessed after {max_attempts} attempts; re-run to finish"
            ) from None
        if progress:
            progress(len(batch))
        return len(batch)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(send, batches))


def write_single_batch_writer(resource: Any, table: str, items: Sequence[dict]) -> int:
    """The plain way (one `batch_writer`), kept as the benchmark's baseline."""
    t = resource.Table(table)
    with t.batch_writer(overwrite_by_pkeys=["user_id"]) as writer:
        for item in items:
            writer.put_item(Item=item)
    return len(items)
