"""The scheduled refresh of the serving stores: train when due → sync → export, each step the command a
person runs by hand, run in order as its own process, stopping at the first that fails.

What the scheduled task runs in its job service (`python -m scripts.serving refresh --stack S
--in-service`), and what `--local` rehearses on the stand-ins. Each step leaves the stores as they were
when it fails: `train` writes only the warehouse and the model stage (a model worse than the baseline is
not published); the sync stages every table and switches them in one transaction; the export writes
DynamoDB first (whole items, deletions last, so a rerun converges) and then the profiles table as the
sync does. A failed step ends the refresh with a non-zero exit: the steps after it do not run, so the
stores never mix a failed step's half with the next step's.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scripts.core.console import console

Execute = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class RefreshStep:
    title: str
    argv: tuple[str, ...]  # `python -m <argv>`


class RefreshError(Exception):
    """A step exited non-zero; `code` is what the refresh exits with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def steps(stack: str, *, local: bool, in_service: bool, train_every_days: int) -> list[RefreshStep]:
    """The chain, each step the CLI command it is by hand, on the same target."""
    where = ("--stack", stack, *(("--local",) if local else ()), *(("--in-service",) if in_service else ()))
    return [
        RefreshStep(
            "train", ("scripts.recommendations", "train", *where, "--if-older-than-days", str(train_every_days))
        ),
        RefreshStep("sync", ("scripts.serving", "sync", *where)),
        RefreshStep("export", ("scripts.serving", "export", *where)),
    ]


def in_process(argv: Sequence[str]) -> int:
    """A step as its own process (`python -m …`), its output passed through; its exit code."""
    return subprocess.run([sys.executable, "-m", *argv], check=False).returncode


def run(chain: Sequence[RefreshStep], execute: Execute | None = None) -> list[str]:
    """Run `chain` in order (each step `in_process` unless told otherwise); the titles done. Raises
    RefreshError naming the failed step and the steps not run."""
    execute = execute or in_process
    done: list[str] = []
    for i, s in enumerate(chain):
        console.rule(f"[bold]refresh: {s.title}")
        code = execute(s.argv)
        if code != 0:
            skipped = [later.title for later in chain[i + 1 :]]
            rest = f"; not run: {', '.join(skipped)}" if skipped else ""
            raise RefreshError(
                f"refresh stopped at {s.title} (exit {code}){rest}. The stores hold what they held before "
                f"{s.title} (see its error above); done: {', '.join(done) or 'nothing'}",
                code if code > 0 else 1,
            )
        done.append(s.title)
    console.print(f"refresh done: {', '.join(done)}")
    return done
