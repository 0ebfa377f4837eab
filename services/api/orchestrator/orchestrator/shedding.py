"""The global in-flight cap: beyond `limit` requests to /recommend in flight in this worker, the next is
answered 503 with Retry-After at once instead of queueing for a pooled connection it would wait for."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from .tracing import request_id

CAPPED_PATHS = ("/recommend",)  # /health and the page always answer


def in_flight_limit(max_in_flight: int, pg_pool_size: int) -> int:
    """MAX_IN_FLIGHT, else four requests per pooled connection (the rest is ranking and JSON)."""
    return max_in_flight if max_in_flight > 0 else 4 * max(1, pg_pool_size)


class InFlightCap:
    """ASGI middleware: counts the requests to CAPPED_PATHS in flight; one over `limit` is not waited for."""

    def __init__(self, app: Any, limit: int, retry_after: int) -> None:
        self.app, self.limit, self.retry_after = app, limit, retry_after
        self.in_flight = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in CAPPED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            rid = request_id()
            body = {"error": f"busy: try again shortly (request id {rid})", "request_id": rid}
            headers = {"Retry-After": str(self.retry_after)}
            await JSONResponse(body, status_code=503, headers=headers)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
