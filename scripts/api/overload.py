"""An open-loop load: requests sent at a fixed rate whatever the server does, as visitors arrive.

wrk (and wrk's Lua pauses) is a closed loop: a slow answer delays the connection's next request, so an
overloaded server is offered less than intended. Here a schedule fixes when each request starts (one
every 1/rate s); it goes out on an idle keep-alive connection, or a new one (up to MAX_CONNECTIONS),
and its latency counts from its scheduled start, so time spent waiting for a connection is counted
too. Plain asyncio streams and hand-written HTTP/1.1, no client library: a few tens of microseconds of
client CPU a request. Answers are sorted by status; a request with no answer within `timeout` is a
timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from urllib.parse import urlparse

MAX_CONNECTIONS = 512


async def _one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes) -> int:
    """One request on a keep-alive connection: its status (the body is read and dropped)."""
    reader, writer = conn
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _run(url: str, paths: Sequence[str], rate: float, seconds: float, timeout: float) -> dict[str, float]:
    u = urlparse(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    by_status: dict[int, list[float]] = {}
    counts = {"timeouts": 0, "connection errors": 0, "not sent (no connection free)": 0}

    async def request(i: int, due: float) -> None:
        nonlocal opened
        raw = f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        if idle:
            conn = idle.pop()
        elif opened < MAX_CONNECTIONS:
            opened += 1
            try:
                conn = await asyncio.open_connection(host, port)
            except OSError:
                opened -= 1
                counts["connection errors"] += 1
                return
        else:
            counts["not sent (no connection free)"] += 1
            return
        try:
            status = await asyncio.wait_for(_one(conn, raw), timeout)
        except TimeoutError:
            counts["timeouts"] += 1
            conn[1].close()
            opened -= 1
            return
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["connection errors"] += 1
            conn[1].close()
            opened -= 1
            return
        by_status.setdefault(status, []).append(time.perf_counter() - due)
        idle.append(conn)

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(request(i, due)))
    sent_for = time.perf_counter() - start
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return _summary(by_status, counts, total, sent_for)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def _summary(by_status: dict[int, list[float]], counts: dict[str, int], total: int, sent_for: float) -> dict:
    ok = by_status.get(200, [])
    shed = by_status.get(503, [])
    other_5xx = sum(len(v) for s, v in by_status.items() if s >= 500 and s != 503)
    other = sum(len(v) for s, v in by_status.items() if s not in (200, 503) and s < 500)
    return {
        "offered req/s": round(total / sent_for, 1),
        "requests": total,
        "answered 200": f"{len(ok)} ({len(ok) / total:.1%})",
        "200 p50 ms": round(_pct(ok, 0.50), 2),
        "200 p99 ms": round(_pct(ok, 0.99), 2),
        "200 max ms": round(max(ok, default=float("nan")) * 1000, 2),
        "503 (shed)": len(shed),
        "503 p99 ms": round(_pct(shed, 0.99), 2),
        "other 5xx": other_5xx,
        "other status": other,
        **counts,
    }


def open_loop(url: str, paths: Sequence[str], rate: float, seconds: float, timeout: float = 5.0) -> dict:
    """Offer `rate` requests a second for `seconds` (cycling through `paths`): answers by status, the
    200s' latency percentiles from their scheduled start, 503s, other 5xx, timeouts.

    On a private loop, not asyncio.run: asyncio.run ends by setting the thread's current loop to None,
    which breaks whoever else in the process holds that loop (the Pulumi mocks of the tests).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_run(url, paths, rate, seconds, timeout))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
