"""What the recommendation API accepts, strictly, and the JSON errors that name the field at fault.

- customer_id and top_n are JSON integers (not booleans, floats or strings); zip_code is a string of
  exactly five ASCII digits (no other script's digits, no trailing newline).
- POST bodies are `application/json` of at most MAX_BODY_BYTES; a batch holds at most MAX_BATCH_ROWS
  rows of exactly [row_index, customer_id, zip_code, top_n]; a URL is at most MAX_URL_BYTES (the
  server's parser accepts up to about SERVER_MAX_REQUEST_LINE, so a longer URL gets a JSON 414; beyond
  it the server's own refusal, a JSON 400, server.JsonRefusals).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, field_validator

ZIP = re.compile(r"[0-9]{5}")  # ASCII only, matched whole: `\d` and `$` would let '١٢٣٤٥' and '12345\n' in
MAX_CUSTOMER_ID = 2**63 - 1  # BIGINT in the serving tables
MAX_BODY_BYTES = 1 << 20
MAX_BATCH_ROWS = 1000
MAX_URL_BYTES = 16 * 1024
# What httptools' parser takes (measured; server.SERVER_MAX_REQUEST_LINE): below it a request reaches
# the app (and gets a JSON answer); above it the server's JsonRefusals answers a JSON 400.
SERVER_MAX_REQUEST_LINE = 64 * 1024
ROW = "[row_index, customer_id, zip_code, top_n]"


class RecommendRequest(BaseModel):
    customer_id: int = Field(ge=1, le=MAX_CUSTOMER_ID, strict=True, description="customer id, e.g. 1000000")
    zip_code: str = Field(strict=True, description="5-digit US ZIP code; its first digit picks the fulfilment region")
    top_n: int = Field(default=5, ge=1, le=50, strict=True)

    @field_validator("zip_code")
    @classmethod
    def _zip(cls, v: str) -> str:
        if not ZIP.fullmatch(v):
            raise ValueError("must be a 5-digit ZIP code (ASCII digits 0-9)")
        return v


@dataclass(eq=False)
class ApiError(Exception):
    """A client-facing error: its status, a message that starts with the field, and the field."""

    status: int
    message: str
    field: str | None = None
    extra: dict[str, Any] | None = None  # e.g. the request id of a server-side failure
    headers: dict[str, str] | None = None  # e.g. Retry-After on a 503 that sheds load

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.field:
            out["field"] = self.field
        return {**out, **(self.extra or {})}

    def response(self) -> JSONResponse:
        return JSONResponse(status_code=self.status, content=self.body(), headers=self.headers)


def validation_error(e: ValidationError) -> ApiError:
    errs = e.errors(include_input=False, include_url=False)
    first = errs[0] if errs else {}
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return ApiError(422, f"{field}: {first.get('msg', 'invalid input')}", field)


async def read_json(request: Request) -> Any:
    """The POST body as JSON: content type, size and syntax checked, each with its own 4xx."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, f"content-type: must be application/json, not {media or 'missing'!r}", "content-type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large(int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large(size)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise ApiError(422, "body: must be JSON", "body") from None


def _too_large(size: int) -> ApiError:
    return ApiError(413, f"body: {size} bytes or more, over the limit of {MAX_BODY_BYTES} bytes", "body")


def single_request(body: Any) -> RecommendRequest:
    try:
        return RecommendRequest.model_validate(body)
    except ValidationError as e:
        raise validation_error(e) from None


def batch_requests(body: dict) -> list[tuple[int, RecommendRequest | ApiError]]:
    """Snowflake's service-function rows → (row_index, request or that row's own error).

    A malformed batch (not a list, too many rows, a row of the wrong shape or without an integer
    row index) is refused whole; a row whose values are invalid gets its error in its answer row."""
    data = body.get("data")
    if not isinstance(data, list):
        raise ApiError(422, f"data: must be a list of {ROW} rows", "data")
    if len(data) > MAX_BATCH_ROWS:
        raise ApiError(413, f"data: {len(data)} rows, over the limit of {MAX_BATCH_ROWS}; send smaller batches", "data")
    out: list[tuple[int, RecommendRequest | ApiError]] = []
    seen: set[int] = set()
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != 4:
            got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
            raise ApiError(422, f"data[{i}]: each row is {ROW}, got {got}", f"data[{i}]")
        index, customer_id, zip_code, top_n = row
        if not is_int(index) or not -(2**63) <= index < 2**63 or index in seen:  # echoed back: a BIGINT
            raise ApiError(
                422, f"data[{i}][0]: row_index must be a 64-bit integer, unique in the batch", f"data[{i}][0]"
            )
        seen.add(index)
        if is_int(zip_code):  # a warehouse NUMBER column arrives as a JSON number
            zip_code = str(zip_code)
        try:
            out.append((index, RecommendRequest(customer_id=customer_id, zip_code=zip_code, top_n=top_n)))
        except ValidationError as e:
            out.append((index, validation_error(e)))
    return out


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class UrlLimit:
    """ASGI middleware: a URL over MAX_URL_BYTES is a JSON 414 naming its longest query parameter."""

    def __init__(self, app: Any, max_bytes: int = MAX_URL_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            size = len(scope.get("raw_path") or scope["path"].encode()) + len(query)
            if size > self.max_bytes:
                params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                field = max(params, key=lambda kv: len(kv[1]))[0] if params else "url"
                err = ApiError(414, f"{field}: the URL is {size} bytes, over the limit of {self.max_bytes}", field)
                await err.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
