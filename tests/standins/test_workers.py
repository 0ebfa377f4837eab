"""The API with several workers: what makes the 40 ms of a multi-worker uvicorn go away (TCP_NODELAY),
how many workers a container runs, and that starting and stopping such a server leaves no process."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import socket
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn.config

from infra.api.component import SERVICES_DIR
from scripts import standins
from scripts.api import serve
from scripts.standins.processes import group_members
from services.api.orchestrator import server

uvicorn_main = importlib.import_module("uvicorn.main")  # the module: `uvicorn.main` is its command


def accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection an asyncio server accepted from `listener`, as uvicorn serves one."""
    seen: list[int] = []

    async def main() -> None:
        def protocol() -> asyncio.Protocol:
            class Seen(asyncio.Protocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    conn = transport.get_extra_info("socket")
                    seen.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                    transport.close()

            return Seen()

        srv = await asyncio.get_running_loop().create_server(protocol, sock=listener)
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        while not seen:
            await asyncio.sleep(0.01)
        writer.close()
        srv.close()

    asyncio.run(asyncio.wait_for(main(), 10))
    return seen[0]


def bound(sock: socket.socket) -> socket.socket:
    sock.bind(("127.0.0.1", 0))
    return sock


def test_the_multi_worker_sockets_say_tcp_so_connections_get_nodelay(monkeypatch):
    # uvicorn's supervisor binds `socket(AF_INET)` (protocol 0): asyncio leaves Nagle on, and each
    # response's body waits for the client's delayed ACK
    assert accepted_nodelay(bound(socket.socket(socket.AF_INET))) == 0
    with server.listener("127.0.0.1", 0) as sock:
        assert accepted_nodelay(sock) == 1
    # server.py binds for uvicorn: TCP, and SO_REUSEPORT so that each worker can listen on its own socket
    monkeypatch.setattr(uvicorn.config.Config, "bind_socket", uvicorn.config.Config.bind_socket)  # undone after
    monkeypatch.setattr(uvicorn_main, "Multiprocess", uvicorn_main.Multiprocess)
    server.patch_uvicorn()
    assert uvicorn_main.Multiprocess is server.ReusePortWorkers
    config = uvicorn.config.Config("orchestrator.app:create_app", host="127.0.0.1", port=0, workers=2)
    with config.bind_socket() as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1


def test_each_worker_gets_a_socket_of_its_own_on_the_supervisors_port():
    config = uvicorn.config.Config("orchestrator.app:create_app", host="127.0.0.1", port=0, workers=2)
    with server.listener("127.0.0.1", 0) as held:
        workers = server.ReusePortWorkers.__new__(server.ReusePortWorkers)  # its __init__ takes the signals
        workers.config, workers.sockets = config, [held]
        first, second = workers.sockets[0], workers.sockets[0]
        with first, second:
            assert workers.held == [held]
            assert len({held.fileno(), first.fileno(), second.fileno()}) == 3
            assert first.getsockname() == second.getsockname() == held.getsockname()


@pytest.mark.parametrize(("cpu_request", "workers"), [("0.5", 1), ("1", 1), ("1.5", 1), ("2", 2), ("4", 4)])
def test_one_worker_per_whole_requested_cpu(cpu_request, workers):
    assert server.default_workers({"CPU_REQUEST": cpu_request}) == workers


def test_without_a_request_one_worker_per_cpu_the_container_may_use(tmp_path):
    cpus = len(os.sched_getaffinity(0))
    quota = tmp_path / "cpu.max"
    for text, expected in (("max 100000", cpus), ("100000 100000", 1), ("50000 100000", 1), ("400000 100000", cpus)):
        quota.write_text(text + "\n")
        assert server.available_cpus(quota) == min(expected, cpus)
    assert server.available_cpus(tmp_path / "missing") == cpus
    assert server.default_workers({}) == server.available_cpus()


def test_specs_and_images_pin_compute_threads_and_size_workers_by_the_cpu_request():
    for svc in ("orchestrator", "ranker"):
        spec = (SERVICES_DIR / svc / "spec.yaml.tmpl").read_text()
        dockerfile = (SERVICES_DIR / svc / "Dockerfile").read_text()
        for name, value in serve.THREAD_ENV.items():
            assert f'{name}: "{value}"' in spec, (svc, name)
            assert f"{name}={value}" in dockerfile, (svc, name)
    spec = (SERVICES_DIR / "orchestrator" / "spec.yaml.tmpl").read_text()
    assert 'CPU_REQUEST: "{{ cpu_request }}"' in spec and "requests: {cpu: {{ cpu_request }}" in spec
    dockerfile = (SERVICES_DIR / "orchestrator" / "Dockerfile").read_text()
    assert "COPY api/orchestrator/server.py ./server.py" in dockerfile
    assert 'CMD ["python", "-m", "server", "--factory", "orchestrator.app:create_app"' in dockerfile
    assert '"--workers"' not in dockerfile  # server.py decides, from CPU_REQUEST


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_two_workers_start_serve_and_stop_leaving_no_process(target):
    api = serve.start("orchestrator", serve.api_env(target), workers=2)
    pid, port = api.proc.pid, int(api.url.rsplit(":", 1)[1])
    try:
        members = group_members(pid)
        assert len(members) >= 3, members  # the supervisor and its two workers, one process group
        for member in members:
            assert {k: environ(member).get(k) for k in serve.THREAD_ENV} == serve.THREAD_ENV
        with psycopg.connect(target.pg_dsn) as conn:
            cid = conn.execute(f"SELECT min(customer_id) FROM {target.pg_schema}.customer_features").fetchone()[0]
        clients = [httpx.Client(base_url=api.url, timeout=10) for _ in range(32)]
        try:
            for c in clients:  # 32 keep-alive connections, each to whichever worker the kernel picks
                r = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"})
                assert r.status_code == 200 and r.json()["backend"] == "postgres", r.text[:300]
            sockets = tcp_sockets(port)
            listening = sorted(p for p, n in sockets.items() if n["listen"])
            # each worker listens on a socket of its own (the supervisor only holds the port), and both
            # took some of the connections: with one shared socket, the first worker to wake accepted
            # every connection waiting
            assert len(listening) == 2 and set(listening) <= set(members) - {pid}, sockets
            assert all(sockets[w] == {"listen": 1, "established": sockets[w]["established"]} for w in listening)
            assert all(sockets[w]["established"] for w in listening), {w: sockets[w] for w in listening}
            assert sum(sockets[w]["established"] for w in listening) == 32, {w: sockets[w] for w in listening}
        finally:
            for c in clients:
                c.close()
    finally:
        api.stop()
    assert group_members(pid) == [] and not standins.port_open(port)


def tcp_sockets(port: int) -> dict[int, dict[str, int]]:
    """Per process: its listening and established TCP sockets on `port` (from /proc)."""
    states = {"0A": "listen", "01": "established"}
    by_inode = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in states:
            by_inode[fields[9]] = states[fields[3]]
    out: dict[int, dict[str, int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        counts = {"listen": 0, "established": 0}
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue
        for link in links:
            state = by_inode.get(link[len("socket:[") : -1]) if link.startswith("socket:[") else None
            if state:
                counts[state] += 1
        out[int(proc.name)] = counts
    return out


def test_stop_ends_the_workers_of_a_supervisor_killed_first(target):
    """A killed supervisor leaves its workers serving; `make stop` (stop_app) ends them all the same."""
    api = serve.start("orchestrator", serve.api_env(target), workers=2)
    pid, port = api.proc.pid, int(api.url.rsplit(":", 1)[1])
    standins.register_app("orchestrator (test)", pid, port)
    try:
        os.kill(pid, signal.SIGKILL)
        api.proc.wait(10)
        assert group_members(pid), "the workers outlive their supervisor"
        standins.stop_app("orchestrator (test)")
        assert group_members(pid) == [] and not standins.port_open(port)
    finally:
        api.stop()
        standins.stop_app("orchestrator (test)")
