"""Recommendations → DynamoDB `product_recommendations`: the handler of STREAMS_TASKS.EXPORT_DYNAMODB.

This file is the Python stored procedure's body in Snowflake (ProcedurePython, handler `run`, packages
from the Snowflake Anaconda channel: boto3) and is imported as-is by scripts/serving/dynamodb.py, so the
scheduled export and the export run from CI or a laptop build the same items from the same rows.

The procedure runs as the child task EXPORT_DYNAMODB after the serving refresh succeeded. It reads the
recommendations, builds every item before it writes any (a bad row fails the run with the table
untouched), then writes them with BatchWriteItem, 25 at a time, retrying unprocessed items with backoff.
AWS credentials come from the CLOUD_PROVIDER_TOKEN secret bound as `cred` (Snowflake assumes the stack's
role `rdp-<env>-snowflake-dynamodb` through the security integration). It only puts: the items of users
no longer recommended stay until an export with the delete pass (`python -m scripts.serving export`)
converges the table, as its role may not scan, so it cannot list them (BatchWriteItem would allow a
delete by key: IAM has no action that allows a batch's puts without its deletes).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# The columns read, in this order (sql/serving/sync/export_recommendations.sql selects the same).
COLUMNS = ("USER_ID", "RANK", "PRODUCT_ID", "CATEGORY_ID", "PURCHASE_COUNT", "SOURCE")
BATCH = 25
SECRET = "cred"  # the name the procedure's SECRETS clause binds the cloud provider token secret to


class ItemError(Exception):
    """A recommendation row or a write the export cannot complete, worded with the row or batch at fault."""


def select_query(source: str) -> str:
    """The rows of `source` (a fully qualified USER_PRODUCT_RECOMMENDATIONS), grouped by user and rank."""
    return f"SELECT {', '.join(COLUMNS)} FROM {source} ORDER BY USER_ID, RANK"


def build_items(rows: Iterable[Sequence]) -> list[dict]:
    """Group (user_id, rank, product_id, category_id, purchase_count, source) rows into one item per user."""
    users: dict[int, dict] = {}
    for n, row in enumerate(rows, start=1):
        if len(row) != len(COLUMNS):
            raise ItemError(f"recommendation row {n} has {len(row)} values, expected {len(COLUMNS)}")
        user_id, rank, product_id, category_id, _count, source = row
        try:
            uid, pid, rk = int(user_id), int(product_id), int(rank)
        except (TypeError, ValueError):
            raise ItemError(
                f"recommendation row {n}: user_id {user_id!r}, product_id {product_id!r} "
                f"and rank {rank!r} must be integers"
            ) from None
        item = users.setdefault(uid, {"user_id": uid, "ranked": {}, "category_id": category_id, "source": source})
        if rk in item["ranked"]:
            raise ItemError(f"recommendation row {n}: user {uid} has rank {rk} twice")
        item["ranked"][rk] = pid
    return [
        {
            "user_id": uid,
            "recommended_products": [users[uid]["ranked"][k] for k in sorted(users[uid]["ranked"])],
            "category_id": users[uid]["category_id"],
            "source": users[uid]["source"],
        }
        for uid in sorted(users)
    ]


def to_attr(item: dict) -> dict:
    """Plain item → DynamoDB attribute-value JSON (the low-level client's wire format)."""
    attrs: dict[str, Any] = {
        "user_id": {"N": str(item["user_id"])},
        "recommended_products": {"L": [{"N": str(p)} for p in item["recommended_products"]]},
        "source": {"S": item["source"]},
    }
    if item.get("category_id") is not None:
        attrs["category_id"] = {"S": item["category_id"]}
    return attrs


def write_batch(
    client: Any, table: str, requests: list[dict], max_attempts: int = 8, sleep: Callable[[float], None] = time.sleep
) -> int:
    """One BatchWriteItem of at most 25 requests; what DynamoDB leaves unprocessed is sent again after an
    exponential, jittered wait, until none is left or `max_attempts` calls were made."""
    pending = {table: requests}
    for attempt in range(max_attempts):
        if attempt:
            sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending.get(table):
            return len(requests)
    left = len(pending.get(table, []))
    raise ItemError(f"{left} item(s) still unprocessed after {max_attempts} attempts; re-run to finish")


def write_items(
    client: Any, table: str, items: Sequence[dict], max_attempts: int = 8, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Every item as a PutRequest, in batches of 25; returns how many were written."""
    requests = [{"PutRequest": {"Item": to_attr(i)}} for i in items]
    return sum(
        write_batch(client, table, requests[k : k + BATCH], max_attempts, sleep) for k in range(0, len(requests), BATCH)
    )


def cloud_provider_token(name: str = SECRET) -> Any:
    """The AWS credentials Snowflake obtained by assuming the integration's role (inside Snowflake only)."""
    import _snowflake

    return _snowflake.get_cloud_provider_token(name)


def client_for(region: str, token: Any, endpoint_url: str | None = None) -> Any:
    """A DynamoDB client signing with the token's temporary credentials."""
    import boto3

    return boto3.client(
        "dynamodb",
        region_name=region,
        aws_access_key_id=token.access_key_id,
        aws_secret_access_key=token.secret_access_key,
        aws_session_token=token.token,
        endpoint_url=endpoint_url,
    )


def run(
    session: Any,
    source: str,
    table: str,
    region: str,
    token_provider: Callable[[], Any] = cloud_provider_token,
    endpoint_url: str | None = None,
) -> str:
    """The procedure: every item built from `source`, then written to `table`. Snowflake passes the first
    four arguments; the tests pass a fake token provider and the stand-in's endpoint."""
    rows = [tuple(r) for r in session.sql(select_query(source)).collect()]
    items = build_items(rows)
    if not items:
        raise ItemError(f"{source} has no recommendations; nothing was written")
    written = write_items(client_for(region, token_provider(), endpoint_url), table, items)
    return f"{written} item(s) written to {table}"
