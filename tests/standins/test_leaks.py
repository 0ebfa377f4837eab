"""The leak guard finds a server this checkout started during the run, and says which test started it."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.leaks import LeakGuard, checkout_servers


def test_a_server_left_running_is_found_and_named_by_the_test_that_started_it():
    guard = LeakGuard()
    guard.windows.append((time.time(), "tests/x.py::test_that_leaks"))
    time.sleep(0.2)  # well inside the test's window, whatever the clock's resolution
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
    try:
        deadline = time.time() + 10
        while proc.pid not in {p.pid for p in checkout_servers()} and time.time() < deadline:
            time.sleep(0.1)
        left = guard.leftovers(grace=0)
        assert [p.pid for p in left] == [proc.pid]
        assert guard.during(left[0].started) == "tests/x.py::test_that_leaks"
    finally:
        proc.kill()
        proc.wait(10)
    assert guard.leftovers(grace=2) == []
