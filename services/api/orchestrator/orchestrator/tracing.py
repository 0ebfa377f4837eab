"""A request id for every request: clients get it (header and error bodies), logs carry it with the
backend's own error text, which never reaches a client."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
HEADER = b"x-request-id"
_SAFE = re.compile(rb"^[A-Za-z0-9._-]{8,64}$")  # a caller's own id is kept only when it is this tame


def request_id() -> str:
    return REQUEST_ID.get()


class RequestId:
    """ASGI middleware: take a well-formed X-Request-Id or make one, expose it to the handlers through
    a context variable and send it back as a response header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"")
        rid = given.decode() if _SAFE.match(given) else uuid.uuid4().hex[:16]
        token = REQUEST_ID.set(rid)

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
