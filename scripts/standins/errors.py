"""How a stand-in failure reads: one line with what failed, the log to read and what to do.

A user who runs `make local` should see the cause and the fix, not a traceback; the traceback is there
for whoever asks for it with `--verbose` or RDP_DEBUG=1.
"""

from __future__ import annotations

import functools
import os
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")

# A log line that names what went wrong: PostgreSQL's FATAL/PANIC and "could not", initdb's "error:", a Python
# exception; and pg_ctl's summary lines, which say only that it failed.
CAUSE = re.compile(r"FATAL|PANIC|ERROR|\berror\b|\w+(Error|Exception)\b|Errno|could not")
SUMMARY = re.compile(r"^(pg_ctl: could not start server|Examine the log output|stopped waiting)")
# PostgreSQL's log prefix ("2026-01-01 10:00:00.000 UTC [123] ") and what pg_ctl wrote before it on that line.
LOG_PREFIX = re.compile(r"^(.*?\d{4}-\d\d-\d\d [\d:.]+ \w+ \[\d+\] |waiting for server to start\.+)")


class StandInError(RuntimeError):
    """A stand-in could not start or is not running; str() is the one line a user reads."""

    def __init__(self, what: str, log: Path | None = None, fix: str = "") -> None:
        self.what, self.log, self.fix = one_line(what), log, one_line(fix)
        parts = [self.what, f"log: {log}" if log else "", f"fix: {self.fix}" if fix else ""]
        super().__init__("; ".join(p for p in parts if p))


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace (newlines included) folded, long text cut: a message stays on one terminal line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_size(log: Path) -> int:
    """Where this attempt's part of an appended log begins."""
    return log.stat().st_size if log.is_file() else 0


def last_cause(log: Path, offset: int = 0) -> str:
    """The last line of the log written since `offset` that names an error (else its last line), so the
    one-line message carries the cause itself."""
    if not log.is_file():
        return ""
    with open(log, "rb") as f:
        f.seek(offset)
        text = f.read()[-50_000:].decode(errors="replace")
    lines = [LOG_PREFIX.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not SUMMARY.match(line)]
    if not lines:
        return ""
    causes = [i for i, line in enumerate(lines) if CAUSE.search(line)]
    i = causes[-1] if causes else len(lines) - 1
    detail = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("DETAIL:") else ""
    return one_line(f"{lines[i]} {detail}", 240)


def with_cause(what: str, log: Path, offset: int) -> str:
    """`what (cause from the log)`, or just `what` when the log says nothing."""
    cause = last_cause(log, offset)
    return f"{what} ({cause})" if cause else what


def debugging() -> bool:
    """RDP_DEBUG=1 asks for tracebacks."""
    return os.environ.get("RDP_DEBUG", "") not in ("", "0")


def exits_in_one_line(command: Callable[P, R]) -> Callable[P, R]:
    """For a CLI command: a StandInError ends it with one line on stderr and exit status 1. The traceback
    is printed too when the command's `verbose` argument is true or RDP_DEBUG=1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except StandInError as e:
            if kwargs.get("verbose") or debugging():
                traceback.print_exc()
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None

    return run
