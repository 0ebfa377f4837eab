"""Commands a test runs in a fresh interpreter (mostly the program under Pulumi's mocks, seconds of CPU
each), started ahead of the test on the runner's other core: a module registers its command when it is
imported, the suite starts every command of a collected test once collection ends, two at a time, and the
test reads the finished process as `subprocess.run(..., capture_output=True, text=True)` returns it. The
command, its environment and the test's assertions are the test's own; only the start moves earlier."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2  # the CI runner's two cores: the tests themselves keep one busy


@dataclass
class Command:
    argv: list[str]
    tests: tuple[str, ...]  # the module's tests that read it: it starts only if one of them is collected
    module: str
    env: dict[str, str] | None = None  # added to the suite's environment
    cwd: Path = ROOT
    nice: int = 0
    prepare: Callable[[], Path] | None = None  # makes the directory the command runs in (then its cwd)
    timeout: float = 900
    future: Future | None = field(default=None, repr=False)


class Background:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen] = set()
        self.closed = False
        self.tmp: Path | None = None

    def tmpdir(self) -> Path:
        """A fresh directory for a command's `prepare`, removed when the suite ends."""
        with self.lock:
            if self.tmp is None:
                self.tmp = Path(tempfile.mkdtemp(prefix="rdp-test-background-"))
        return Path(tempfile.mkdtemp(dir=self.tmp))

    def register(self, name: str, argv: list[str], tests: tuple[str, ...], module: str, **kw) -> str:
        if name in self.commands and self.commands[name].argv != argv:
            raise ValueError(f"background command {name!r} registered twice with different commands")
        self.commands.setdefault(name, Command(argv, tests, module, **kw))
        return name

    def _run(self, cmd: Command, ahead: bool = True) -> subprocess.CompletedProcess:
        if cmd.prepare:
            cmd.cwd = cmd.prepare()
        env = {**os.environ, **(cmd.env or {})}
        # nice(1), not a preexec_fn: that is unsafe in a process with threads
        niced = ["nice", "-n", str(cmd.nice)] if ahead and cmd.nice and shutil.which("nice") else []
        with self.lock:
            if self.closed:
                raise RuntimeError("the suite ended before this command ran")
            proc = subprocess.Popen(
                [*niced, *cmd.argv], cwd=cmd.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            self.procs.add(proc)
        try:
            out, err = proc.communicate(timeout=cmd.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(background: killed after {cmd.timeout:.0f} s)"
        finally:
            with self.lock:
                self.procs.discard(proc)
        return subprocess.CompletedProcess(cmd.argv, proc.returncode, out, err)

    def start(self, name: str) -> None:
        cmd = self.commands[name]
        with self.lock:
            if cmd.future is not None:
                return
            if self.pool is None:
                self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="background")
            cmd.future = self.pool.submit(self._run, cmd)

    def result(self, name: str) -> subprocess.CompletedProcess:
        """The finished command; run here and now if it was not started ahead (or has not begun yet)."""
        cmd = self.commands[name]
        with self.lock:
            pending = cmd.future is None or cmd.future.cancel()
            if pending:
                done: Future = Future()
                cmd.future = done
        if pending:
            try:
                done.set_result(self._run(cmd, ahead=False))  # the test waits: at its own priority
            except BaseException as e:
                done.set_exception(e)
        return cmd.future.result()

    def start_for(self, items: list) -> None:
        """Start the commands of the collected tests, in the order the tests come."""
        for item in items:
            module = getattr(getattr(item, "module", None), "__name__", None)
            name = getattr(getattr(item, "function", None), "__name__", None)
            for key, cmd in self.commands.items():
                if cmd.module == module and name in cmd.tests:
                    self.start(key)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for proc in self.procs:
                proc.kill()
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


BACKGROUND = Background()


def command(name: str, argv: list[str], *tests: Callable, nice: int = 10, **kw) -> str:
    """Register `argv` as read by `tests` (functions of one module, defined above the call); returns the
    name to read it by. It runs `nice`r than the tests, so that it takes only a core they leave idle.
    `env` adds to the environment; `prepare` makes the directory it runs in (see `cwd`)."""
    modules = {t.__module__ for t in tests}
    if len(modules) != 1:
        raise ValueError(f"background command {name!r}: name tests of one module")
    return BACKGROUND.register(name, argv, tuple(t.__name__ for t in tests), modules.pop(), nice=nice, **kw)


def cwd(name: str) -> Path:
    """The directory the command ran in (what its `prepare` made), once it has run."""
    result(name)
    return BACKGROUND.commands[name].cwd


def result(name: str) -> subprocess.CompletedProcess:
    return BACKGROUND.result(name)


def tmpdir() -> Path:
    """A fresh directory for a command's `prepare` or environment, removed when the suite ends."""
    return BACKGROUND.tmpdir()
