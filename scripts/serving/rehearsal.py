"""The serving stores on the stand-ins (PostgreSQL, and DynamoDB on moto), and `make local`'s run of
the sync and the export."""

from __future__ import annotations

from typing import Any

from scripts.core.rehearsal import LocalRun, run_cli
from scripts.core.target import Target

TITLE = "serving: warehouse → Postgres serving tables (sync) → DynamoDB and profiles (export)"


def rehearse(run: LocalRun) -> None:
    """`make local`: sync and export what the recommendations loaded, on the stand-ins."""
    run_cli("serving", "all", "--local", "--stack", run.stack)


def prepare(t: Target) -> None:
    """On moto, the table Pulumi declares."""
    ensure_local_dynamodb_table(t)


def ensure_local_dynamodb_table(t: Target) -> None:
    """Locally, the table Pulumi declares (same key schema and billing mode) on moto."""
    client = t.dynamodb_client()
    if t.dynamodb_table in client.list_tables().get("TableNames", []):
        return
    client.create_table(
        TableName=t.dynamodb_table,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
    )


def without_epoch_dates(names: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """fakesnow's HTTP endpoint returns a NULL TIMESTAMP_NTZ as the epoch; a customer without a
    purchase has no last purchase date."""
    i, j = names.index("last_purchase_date"), names.index("total_orders")
    return [(*r[:i], None, *r[i + 1 :]) if not r[j] else r for r in rows]
