"""uvicorn for the API, with one uvicorn worker process per requested CPU.

`python -m server [uvicorn options]` in the image (`python -m services.orchestrator.server` locally) is
uvicorn's own command line, with two differences:

- With several workers, uvicorn's supervisor binds the shared socket as `socket(AF_INET)`, whose
  protocol number is 0, and asyncio sets TCP_NODELAY only on connections accepted from a socket that
  says IPPROTO_TCP. Without it, Nagle's algorithm holds back the second write of every response (h11
  writes the headers, then the body) until the client's delayed ACK, 40 ms on Linux: two workers made
  every sequential request 40 ms slower. Here the socket carries its protocol, so connections get
  TCP_NODELAY as they do with one worker.
- `--workers` defaults to one per whole CPU of CPU_REQUEST (the spec passes its CPU request; at least
  one), else to the CPUs this process may use; WEB_CONCURRENCY or `--workers` still win. Each worker is
  single-threaded for compute: the spec and the image set OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
  MKL_NUM_THREADS to 1, so XGBoost's OpenMP and NumPy's BLAS do not start a thread per core per worker.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from pathlib import Path

import uvicorn.config
import uvicorn.main


def with_tcp_protocol(sock: socket.socket) -> socket.socket:
    """The same listening socket, saying IPPROTO_TCP, so asyncio sets TCP_NODELAY on its connections."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM and sock.proto == 0:
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


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
    """uvicorn binds the shared socket of several workers in Config.bind_socket: give it its protocol."""
    bind = uvicorn.config.Config.bind_socket
    if getattr(bind, "with_tcp_protocol", False):
        return

    def bind_socket(self: uvicorn.config.Config) -> socket.socket:
        return with_tcp_protocol(bind(self))

    bind_socket.with_tcp_protocol = True  # type: ignore[attr-defined]
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]


def main() -> None:
    patch_uvicorn()
    os.environ.setdefault("WEB_CONCURRENCY", str(default_workers()))
    uvicorn.main.main()


if __name__ == "__main__":
    main()
