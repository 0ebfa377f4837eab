"""uvicorn for the API, with one uvicorn worker process per requested CPU.

`python -m server [uvicorn options]` in the image (`python -m services.api.orchestrator.server` locally) is
uvicorn's own command line, with three differences:

- With several workers, each worker listens on a socket of its own (SO_REUSEPORT; the supervisor's
  only holds the port), and the kernel spreads new connections over them. uvicorn shares one socket,
  and the worker that wakes first accepts every connection waiting: the 32 keep-alive connections of a
  burst all landed on one worker while the other idled.
- Those sockets say IPPROTO_TCP. asyncio sets TCP_NODELAY only on connections accepted from such a
  socket, and uvicorn's supervisor binds `socket(AF_INET)`, whose protocol number is 0. Without it,
  Nagle's algorithm holds back the second write of every response (h11 writes the headers, then the
  body) until the client's delayed ACK, 40 ms on Linux: two workers made every sequential request
  40 ms slower.
- `--workers` defaults to one per whole CPU of CPU_REQUEST (the spec passes its CPU request; at least
  one), else to the CPUs this process may use; WEB_CONCURRENCY or `--workers` still win. Each worker is
  single-threaded for compute: the spec and the image set OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
  MKL_NUM_THREADS to 1, so XGBoost's OpenMP and NumPy's BLAS do not start a thread per core per worker.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import socket
from collections.abc import Mapping
from pathlib import Path

import uvicorn.config
import uvicorn.main
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

# The HTTP protocol the image and scripts/api/serve.py name (`--http server:JsonRefusals`).
HTTP_PROTOCOL = "server:JsonRefusals"
# Measured: a URL up to this reaches the app (a JSON 414 from inputs.UrlLimit); a longer one the
# parser refuses (JsonRefusals' JSON 400). orchestrator.inputs.SERVER_MAX_REQUEST_LINE says the same.
SERVER_MAX_REQUEST_LINE = 64 * 1024
MAX_HEAD_BYTES = 1 << 20  # a request line and headers, as h11's incomplete-event limit was


def listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, saying IPPROTO_TCP (so asyncio sets
    TCP_NODELAY on its connections); several such sockets share the port, each with its own queue."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ReusePortWorkers(Multiprocess):
    """uvicorn's supervisor, giving each worker a listening socket of its own on the shared port.

    The supervisor's socket only holds the port (it never listens); every worker, a restarted one
    too, gets a fresh SO_REUSEPORT socket on the same address, and the kernel spreads new connections
    over the workers' sockets. With one shared socket, the worker that wakes first accepts every
    connection waiting (asyncio accepts up to its backlog at a time): a burst of keep-alive clients
    lands on one worker while the other idles.
    """

    @property
    def sockets(self) -> list[socket.socket]:
        host, port = self.held[0].getsockname()[:2]
        return [listener(host, port)]

    @sockets.setter
    def sockets(self, held: list[socket.socket]) -> None:
        self.held = held


class JsonRefusals(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp's C parser, on which the API served ~1.4x the requests it
    served on h11's pure-Python one, `make bench`), whose own refusals are JSON naming the problem like
    every other error, a 400 with {"error", "field": "request"} rather than uvicorn's plain text: a
    request the parser refuses (a URL over SERVER_MAX_REQUEST_LINE, or not HTTP/1.1), and a request
    line and headers over MAX_HEAD_BYTES, which httptools would otherwise buffer without a limit."""

    reading_head = True  # until a message's headers are complete (a connection starts with a head)
    head_bytes = 0

    def on_headers_complete(self) -> None:
        self.reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head, self.head_bytes = True, 0  # what comes next is the next request's head

    def data_received(self, data: bytes) -> None:
        if self.reading_head:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self.send_400_response(f"the request line and headers are over {MAX_HEAD_BYTES // 1024} KiB")
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if msg == "Invalid HTTP request received.":  # uvicorn's words for any refusal of the parser
            limit = SERVER_MAX_REQUEST_LINE // 1024
            msg = f"the HTTP parser refused it (a URL over about {limit} KiB, or not HTTP/1.1)"
        body = json.dumps({"error": f"request: {msg}", "field": "request"}).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body)]
        self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", body]))
        self.transport.close()


def available_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may run on, capped by the container's CPU quota (cgroup v2), at least one."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            cpus = min(cpus, int(quota) // int(period))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def default_workers(environ: Mapping[str, str] = os.environ) -> int:
    """One worker per whole requested CPU (CPU_REQUEST, as the spec sets it), else per available CPU."""
    requested = environ.get("CPU_REQUEST")
    return max(1, math.floor(float(requested))) if requested else available_cpus()


def patch_uvicorn() -> None:
    """Several workers: uvicorn binds in Config.bind_socket and supervises in main's Multiprocess."""
    bind = uvicorn.config.Config.bind_socket
    if getattr(bind, "reuse_port", False):
        return

    def bind_socket(self: uvicorn.config.Config) -> socket.socket:
        if self.uds or self.fd is not None:
            return bind(self)
        sock = listener(self.host, self.port)
        host, port = sock.getsockname()[:2]
        logging.getLogger("uvicorn.error").info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, port)
        return sock

    bind_socket.reuse_port = True  # type: ignore[attr-defined]
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]
    # `uvicorn.main` is the command (the package re-exports it over its module's name): patch the module
    importlib.import_module("uvicorn.main").Multiprocess = ReusePortWorkers


def main() -> None:
    patch_uvicorn()
    os.environ.setdefault("WEB_CONCURRENCY", str(default_workers()))
    uvicorn.main.main()


if __name__ == "__main__":
    main()
