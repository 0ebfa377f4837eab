"""The suite stops every process it starts: at the end of a run, a stand-in, API or dashboard process
of this checkout that was started during the run and is still alive fails the run, naming the test
that was running when it started, and is stopped. CI runs on a shared machine where a leaked server
keeps a port and memory until someone notices."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the stand-ins, the API and the dashboard run as (see scripts/standins).
SERVERS = ("moto.server", "fakesnow", "uvicorn", "streamlit", "postgres", "orchestrator", "ranker")
_TICKS = os.sysconf("SC_CLK_TCK")
# A process's start time is known to a clock tick, and the boot time it counts from to 10 ms.
_SLACK = 0.05


@dataclass(frozen=True)
class Proc:
    pid: int
    started: float  # epoch seconds
    argv: tuple[str, ...]


def _boot_time() -> float:
    """Boot time to the hundredth of a second (/proc/stat's btime is whole seconds)."""
    return time.time() - float(Path("/proc/uptime").read_text().split()[0])


RUN_VARIABLE = "RDP_TEST_RUN"  # set by the guard, inherited by what the run starts (stand-ins keep it)


def checkout_servers(root: Path = ROOT, run: str | None = None) -> list[Proc]:
    """Live server processes whose interpreter or command lives in `root` (this checkout's .venv), and
    with `run`, only those started under that run (another run in the same checkout is not ours)."""
    boot, out = _boot_time(), []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = tuple(a for a in (entry / "cmdline").read_bytes().decode(errors="replace").split("\0") if a)
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if not argv or not argv[0].startswith(str(root)) or int(entry.name) == os.getpid():
            continue
        if not any(s in " ".join(argv) for s in SERVERS) or stat.rsplit(")", 1)[1].split()[0] == "Z":
            continue
        if run and f"{RUN_VARIABLE}={run}".encode() not in _environ(entry):
            continue
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: start time in ticks since boot
        out.append(Proc(int(entry.name), boot + start_ticks / _TICKS, argv))
    return out


def _environ(entry: Path) -> list[bytes]:
    try:
        return (entry / "environ").read_bytes().split(b"\0")
    except OSError:
        return []


class LeakGuard:
    """Remembers which test ran when, and at the end names the leftovers of this run."""

    def __init__(self) -> None:
        self.started = time.time()
        self.run = os.environ.setdefault(RUN_VARIABLE, f"{os.getpid()}-{self.started:.0f}")
        self.before = {p.pid for p in checkout_servers(run=self.run)}
        self.windows: list[tuple[float, str]] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item):
        self.windows.append((time.time(), item.nodeid))
        yield

    def during(self, when: float) -> str:
        name = "the session's set-up"
        for start, nodeid in self.windows:
            if start > when + _SLACK:
                break
            name = nodeid
        return name

    def leftovers(self, grace: float = 5.0) -> list[Proc]:
        """Servers of this checkout started during the run and still alive after `grace` seconds (a
        server told to stop at the end of the last test may take a moment to go)."""
        deadline = time.time() + grace
        while True:
            left = [
                p for p in checkout_servers(run=self.run) if p.pid not in self.before and p.started >= self.started - 1
            ]
            if not left or time.time() > deadline:
                return left
            time.sleep(0.2)

    def pytest_sessionfinish(self, session) -> None:
        left = self.leftovers()
        if not left:
            return
        lines = [f"  pid {p.pid} started during {self.during(p.started)}: {' '.join(p.argv)[:160]}" for p in left]
        for p in left:
            try:
                os.killpg(p.pid, signal.SIGTERM) if os.getpgid(p.pid) == p.pid else os.kill(p.pid, signal.SIGTERM)
            except OSError:
                pass
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "the run left these processes running (now stopped):\n" + "\n".join(lines)
        if reporter:
            reporter.write_line(text, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
