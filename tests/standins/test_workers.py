"""The API with several workers: what makes the 40 ms of a multi-worker uvicorn go away (TCP_NODELAY),
how many workers a container runs, and that starting and stopping such a server leaves no process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn.config

from infra.api import SERVICES_DIR
from scripts import standins
from scripts.api import serve
from scripts.standins.processes import group_members
from services.orchestrator import server


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


def test_the_multi_worker_socket_says_tcp_so_connections_get_nodelay(monkeypatch):
    # uvicorn's supervisor binds `socket(AF_INET)` (protocol 0): asyncio leaves Nagle on, and each
    # response's body waits for the client's delayed ACK
    assert accepted_nodelay(bound(socket.socket(socket.AF_INET))) == 0
    assert accepted_nodelay(server.with_tcp_protocol(bound(socket.socket(socket.AF_INET)))) == 1
    # server.py gives uvicorn's own bind its protocol
    monkeypatch.setattr(uvicorn.config.Config, "bind_socket", uvicorn.config.Config.bind_socket)  # undone after
    server.patch_uvicorn()
    config = uvicorn.config.Config("orchestrator.app:create_app", host="127.0.0.1", port=0, workers=2)
    with config.bind_socket() as sock:
        assert sock.proto == socket.IPPROTO_TCP


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
    assert "COPY orchestrator/server.py ./server.py" in dockerfile
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
        with httpx.Client(base_url=api.url, timeout=10) as c:
            for _ in range(10):  # whichever worker takes it
                r = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001"})
                assert r.status_code == 200 and r.json()["backend"] == "postgres", r.text[:300]
    finally:
        api.stop()
    assert group_members(pid) == [] and not standins.port_open(port)


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
