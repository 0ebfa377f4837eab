"""The analytics task graphs run now on a deployed stack, in their order: the facts graph (dimensions →
facts), then, once its facts are committed, the summary graph. Each root is started with EXECUTE TASK,
which returns at once, so the step reads TASK_HISTORY until the runs end: a summary started before the
facts commit would find no new facts and the day would stay stale until its next cadence (never, on a
stack whose tasks are suspended, such as dev)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from infra.analytics.catalog import CATALOG, fq
from infra.analytics.tasks import TASKS
from infra.naming import quote
from infra.sqlfiles import render_sql
from scripts.analytics.rehearsal import TaskRun
from scripts.core.errors import LoadError

ENDED = {"SUCCEEDED", "FAILED", "CANCELLED", "SKIPPED", "FAILED_AND_AUTO_SUSPENDED"}
OK = {"SUCCEEDED", "SKIPPED"}
WAIT_SECONDS = 900.0  # the graphs' runs on the transform warehouse: minutes; beyond, something is wrong
POLL_SECONDS = 5.0


def _now(cur: Any) -> Any:
    """Snowflake's clock (a time zone-aware datetime): TASK_HISTORY's times are its, not this machine's."""
    cur.execute("SELECT CURRENT_TIMESTAMP()")
    return cur.fetchone()[0]


def _graphs() -> tuple[tuple[str, ...], ...]:
    """Each graph's tasks (catalog keys), root first, in the order TASKS lists their roots."""
    graphs = []
    for key, task in TASKS.items():
        if task.after is None:
            chain = [key]
            while child := next((k for k, t in TASKS.items() if t.after == chain[-1]), None):
                chain.append(child)
            graphs.append(tuple(chain))
    return tuple(graphs)


def _runs(cur: Any, database: str, since: Any) -> dict[str, tuple[str, str]]:
    """Task name → (state, error) of its latest run scheduled since `since` (rows come oldest first)."""
    cur.execute(render_sql("analytics/task_runs.sql", db=quote(database)), (since, CATALOG.schema("dimensions_task")))
    return {name: (state, error) for name, state, error in cur.fetchall()}


def wait_for(
    cur: Any,
    database: str,
    since: Any,
    graph: tuple[str, ...],
    *,
    timeout: float = WAIT_SECONDS,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, tuple[str, str]]:
    """The runs of `graph`'s tasks (catalog keys, root first) once the graph has ended: its last task's
    run has ended, or a run was skipped (its WHEN found no new rows, so what follows does not run). A
    failure names the task and Snowflake's error; a graph still running after `timeout` seconds, too."""
    names = [CATALOG.name(k) for k in graph]
    waited = 0.0
    while True:
        runs = {n: r for n, r in _runs(cur, database, since).items() if n in names}
        for name, (state, error) in runs.items():
            if state in ENDED - OK:
                raise LoadError(f"task {name} {state}: {error or 'no error message'} (see TASK_HISTORY)")
        if runs.get(names[-1], ("",))[0] in ENDED or any(s == "SKIPPED" for s, _ in runs.values()):
            return runs
        if waited >= timeout:
            seen = ", ".join(f"{n} {s}" for n, (s, _) in runs.items()) or "no run recorded yet"
            raise LoadError(f"the task graph {' → '.join(names)} did not end within {timeout:.0f} s ({seen})")
        (sleep or time.sleep)(POLL_SECONDS)
        waited += POLL_SECONDS


def run_graphs(
    cur: Any, database: str, *, timeout: float = WAIT_SECONDS, sleep: Callable[[float], None] | None = None
) -> list[TaskRun]:
    """The facts graph, then the summary graph, each started and waited on to its end (the summary's own
    WHEN skips it when no facts were committed since its last run); what each task's run did."""
    done: list[TaskRun] = []
    for graph in _graphs():
        since = _now(cur)
        cur.execute(f"EXECUTE TASK {fq(database, graph[0])}")
        runs = wait_for(cur, database, since, graph, timeout=timeout, sleep=sleep)
        done += [TaskRun(name, state, error, 0.0) for name, (state, error) in runs.items()]
    return done
