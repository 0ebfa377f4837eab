"""The smoke test after `pulumi up`: one GET /health and one GET /recommend to the deployed orchestrator's
public endpoint (the stack output `apiEndpoint`), each with its status and latency.

SPCS public endpoints take a Snowflake OAuth token in `Authorization: Snowflake Token="…"`; it is read
from the environment variable RDP_API_TOKEN (the README gives the recipe: the app user's key pair → a
JWT → the account's /oauth/token). Without a token the request goes out as is (the local API needs none).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from scripts.core.errors import LoadError
from scripts.core.target import API_TOKEN_VARIABLE
from scripts.core.target import api_headers as headers  # the one header shape, shared with the monitor

TOKEN_VARIABLE = API_TOKEN_VARIABLE
ENDPOINT_OUTPUT = "apiEndpoint"


@dataclass(frozen=True)
class Answer:
    path: str
    status: int
    ms: float
    summary: str

    @property
    def ok(self) -> bool:
        return self.status == 200

    def line(self) -> str:
        return f"{self.status} {self.ms:8.1f} ms  GET {self.path}  {self.summary}"


def endpoint(outputs: Mapping[str, Any], stack: str) -> str:
    """The orchestrator's public URL from the stack outputs, or what to do while it has none."""
    url = str(outputs.get(ENDPOINT_OUTPUT) or "")
    if not url:
        raise LoadError(
            f"stack {stack!r} has no {ENDPOINT_OUTPUT} yet (SPCS provisions the public endpoint a minute or so "
            f"after the service starts): `pulumi refresh --stack {stack}` reads it again, or "
            "`snow spcs service list-endpoints <database>.ML_REGISTRY.ORCHESTRATOR_SERVICE` shows it"
        )
    return url.rstrip("/")


def _summary(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:120].replace("\n", " ")
    if not isinstance(body, dict):
        return str(body)[:120]
    if "recommendations" in body:
        ids = [i.get("product_id") for i in body["recommendations"]]
        return f"backend={body.get('backend')} items={ids}"
    keys = ("status", "backend", "model_loaded", "error", "request_id")
    return " ".join(f"{k}={body[k]}" for k in keys if k in body)


def get(client: httpx.Client, base: str, path: str) -> Answer:
    t0 = time.perf_counter()
    try:
        r = client.get(base + path)
    except httpx.HTTPError as e:
        return Answer(path, 0, (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {e}")
    return Answer(path, r.status_code, (time.perf_counter() - t0) * 1000, _summary(r))


def smoke(base: str, customer_id: int, zip_code: str, token: str | None, timeout: float = 15.0) -> list[Answer]:
    """GET /health, then GET /recommend for one customer: each answer with its status and latency."""
    recommend = f"/recommend?customer_id={customer_id}&zip_code={zip_code}&top_n=5"
    with httpx.Client(headers=headers(token), timeout=timeout, follow_redirects=False) as client:
        return [get(client, base, "/health"), get(client, base, recommend)]
