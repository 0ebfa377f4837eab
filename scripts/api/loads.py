"""The recommendation API's post-deploy checks against a target: a real customer (one with orders in
CUSTOMER_360) asked for recommendations, and on a deployed stack the SPCS service's status."""

from __future__ import annotations

import json
from typing import Any

import httpx

from infra.recommendations import catalog as recommendations
from scripts.core.connections import stack_outputs
from scripts.core.errors import LoadError
from scripts.core.target import Target


def a_customer(t: Target) -> int:
    """The first customer with orders: one the API has real recommendations for."""
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(
            f"SELECT MIN(CUSTOMER_ID) FROM {recommendations.q(t.database, 'CUSTOMER_360')} WHERE TOTAL_ORDERS > 0"
        )
        found = cur.fetchone()[0]
    if found is None:
        raise LoadError(f"{t.database} has no customer with orders: run the recommendations' loads first")
    return int(found)


def ask(api_url: str, customer_id: int, zip_code: str = "10001", top_n: int = 5) -> tuple[str, dict[str, Any]]:
    """GET /recommend of the API at `api_url` for one customer: the URL asked and the answer."""
    url = f"{api_url}/recommend?customer_id={customer_id}&zip_code={zip_code}&top_n={top_n}"
    try:
        answer = httpx.get(url, timeout=10)
        answer.raise_for_status()
        return url, answer.json()
    except (httpx.HTTPError, json.JSONDecodeError) as e:
        raise LoadError(f"the API at {api_url} did not answer {url}: {e}") from None


def service_status(t: Target) -> list[dict[str, Any]]:
    """SYSTEM$GET_SERVICE_STATUS of the orchestrator's SPCS service on a deployed stack."""
    if t.local:
        raise LoadError("the stand-ins run the API as a local process (`make status`), not as an SPCS service")
    service = stack_outputs(t.stack, ("apiService",))["apiService"]
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute("SELECT SYSTEM$GET_SERVICE_STATUS(%s)", (service,))
        return json.loads(cur.fetchone()[0])
