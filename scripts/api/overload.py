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


class StaleConnectionError(ConnectionError):
    """A kept-alive connection the server had closed: nothing of the answer came back, so the request
    (a GET) can go out again on a new connection, as every HTTP client does."""


async def _one(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], raw: bytes) -> tuple[int, bool]:
    """One request on a keep-alive connection: its status (the body is read and dropped) and whether the
    connection can be used again (not when the server said `Connection: close`)."""
    reader, writer = conn
    try:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        raise StaleConnectionError("closed by the server before answering") from e
    except (ConnectionResetError, BrokenPipeError) as e:
        raise StaleConnectionError(str(e)) from e
    status = int(head.split(b" ", 2)[1])
    length, keep = 0, True
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    await reader.readexactly(length)
    return status, keep


def _usable(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> bool:
    """Still open as far as this side knows: the server's close (its keep-alive timeout, uvicorn's 5 s,
    ends connections left idle after a burst) arrives as end of file on the idle connection."""
    return not conn[0].at_eof() and not conn[1].is_closing()


async def _run(url: str, paths: Sequence[str], rate: float, seconds: float, timeout: float) -> dict[str, float]:
    u = urlparse(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    by_status: dict[int, list[float]] = {}
    counts = {"timeouts": 0, "connection errors": 0, "not sent (no connection free)": 0}
    counts |= {"keep-alive closed by the server (sent again)": 0}

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """An idle connection still open, else a new one (up to MAX_CONNECTIONS); None when neither."""
        nonlocal opened
        while idle:
            conn = idle.pop()
            if _usable(conn):
                return conn
            conn[1].close()
            opened -= 1
        if opened >= MAX_CONNECTIONS:
            counts["not sent (no connection free)"] += 1
            return None
        opened += 1
        try:
            return await asyncio.open_connection(host, port)
        except OSError:
            opened -= 1
            counts["connection errors"] += 1
            return None

    async def request(i: int, due: float) -> None:
        nonlocal opened
        raw = f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        for attempt in (1, 2):
            conn = await connect()
            if conn is None:
                return
            try:
                status, keep = await asyncio.wait_for(_one(conn, raw), timeout)
            except StaleConnectionError:
                conn[1].close()
                opened -= 1
                if attempt == 1:
                    counts["keep-alive closed by the server (sent again)"] += 1
                    continue
                counts["connection errors"] += 1
                return
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
            if keep:
                idle.append(conn)
            else:
                conn[1].close()
                opened -= 1
            return

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
