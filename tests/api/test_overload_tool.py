"""The bench's open-loop generator offers the rate asked for and sorts every answer: 200s, 503s, other
5xx and timeouts each counted (a generator that lumped them together could not show the overload goal)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from scripts.api.overload import open_loop


class Answers(BaseHTTPRequestHandler):
    """Customer 1..: even ids 200, odd ids 503; id 7 a 500; id 9 never answers in time."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        cid = int(parse_qs(urlparse(self.path).query)["customer_id"][0])
        if cid == 9:
            time.sleep(1.5)
        status = 500 if cid == 7 else 200 if cid % 2 == 0 else 503
        body = b'{"ok":true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # the generator closes a connection that timed out: the late answer's broken pipe


@pytest.fixture
def server():
    httpd = Quiet(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_every_answer_is_sorted_by_status_and_timeouts_are_counted(server):
    ids = [2, 4, 3, 5, 7, 9, 6, 8, 11, 13]  # a tenth each: 500, a timeout; 4/10 200s, 4/10 503s
    paths = [f"/recommend?customer_id={i}&zip_code=10001" for i in ids]
    figures = open_loop(server, paths, rate=100, seconds=1.0, timeout=1.0)
    assert figures["requests"] == 100
    assert figures["answered 200"].startswith("40 ")
    assert figures["503 (shed)"] == 40
    assert figures["other 5xx"] == 10
    assert figures["timeouts"] == 10
    assert 80 <= figures["offered req/s"] <= 110
    assert figures["200 p99 ms"] < 1000


class ClosesIdle(Answers):
    """Closes a kept-alive connection idle for 50 ms, as uvicorn does after 5 s; every tenth id is slow,
    so a burst opens connections that then sit idle."""

    timeout = 0.05

    def do_GET(self) -> None:
        if int(parse_qs(urlparse(self.path).query)["customer_id"][0]) % 10 == 0:
            time.sleep(0.3)
        super().do_GET()


def test_connections_the_server_closed_while_idle_are_not_errors():
    httpd = Quiet(("127.0.0.1", 0), ClosesIdle)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        paths = [f"/recommend?customer_id={i}&zip_code=10001" for i in range(2, 42, 2)]  # all 200
        figures = open_loop(f"http://127.0.0.1:{httpd.server_address[1]}", paths, rate=50, seconds=2.0)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert figures["connection errors"] == 0, figures
    assert figures["answered 200"].startswith("100 "), figures
