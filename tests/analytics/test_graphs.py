"""The post-deploy `run` step on a deployed stack: the summary graph starts only once the facts graph
has ended, a skipped root ends a graph, a failed task or a graph that never ends is an error naming it.
TASK_HISTORY is played by a cursor that answers each poll with the next scripted set of runs."""

from __future__ import annotations

import pytest

from infra.analytics.catalog import fq
from scripts.analytics.graphs import run_graphs, wait_for
from scripts.core.errors import LoadError

DB = "RDP_DEV_RETAIL"
DIMS, FACTS, SUMMARY = "ANALYTICS_DIMENSIONS_TASK", "ANALYTICS_FACTS_TASK", "ANALYTICS_SUMMARY_TASK"


class History:
    """A cursor: EXECUTE TASK is logged, each TASK_HISTORY read answers the next scripted poll (the last
    one again once the script is spent)."""

    def __init__(self, polls: list[list[tuple[str, str, str]]]) -> None:
        self.polls, self.log, self.last = polls, [], ""

    def execute(self, sql: str, params: object = None) -> None:
        self.last = sql
        if "TASK_HISTORY" in sql:
            self.log.append("poll")
        elif sql.startswith("EXECUTE TASK"):
            self.log.append(sql)

    def fetchone(self) -> tuple:
        return ("2026-12-02 10:00:00+00:00",)

    def fetchall(self) -> list[tuple[str, str, str]]:
        return self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]


def no_sleep(seconds: float) -> None:
    return None


def test_the_summary_starts_after_the_facts_graph_has_ended():
    cur = History(
        [
            [],  # the root's run not in the history yet
            [(DIMS, "EXECUTING", "")],
            [(DIMS, "SUCCEEDED", ""), (FACTS, "EXECUTING", "")],
            [(DIMS, "SUCCEEDED", ""), (FACTS, "SUCCEEDED", "")],
            [(SUMMARY, "SCHEDULED", "")],
            [(SUMMARY, "SUCCEEDED", "")],
        ]
    )
    runs = run_graphs(cur, DB, sleep=no_sleep)
    execute_dims, execute_summary = (f"EXECUTE TASK {fq(DB, k)}" for k in ("dimensions_task", "summary_task"))
    assert cur.log == [execute_dims, "poll", "poll", "poll", "poll", execute_summary, "poll", "poll"]
    assert [(r.task, r.state) for r in runs] == [(DIMS, "SUCCEEDED"), (FACTS, "SUCCEEDED"), (SUMMARY, "SUCCEEDED")]


def test_a_skipped_root_ends_its_graph_and_the_summary_still_runs():
    """No new source rows: the facts graph is skipped; facts committed earlier still reach the summary."""
    cur = History([[(DIMS, "SKIPPED", "")], [(SUMMARY, "SUCCEEDED", "")]])
    runs = run_graphs(cur, DB, sleep=no_sleep)
    assert [r.state for r in runs] == ["SKIPPED", "SUCCEEDED"]
    assert sum(s.startswith("EXECUTE TASK") for s in cur.log) == 2


def test_a_failed_task_is_an_error_naming_it_and_the_summary_does_not_start():
    cur = History([[(DIMS, "SUCCEEDED", ""), (FACTS, "FAILED", "Numeric value 'x' is not recognized")]])
    with pytest.raises(LoadError, match=r"task ANALYTICS_FACTS_TASK FAILED: Numeric value 'x' is not recognized"):
        run_graphs(cur, DB, sleep=no_sleep)
    assert sum(s.startswith("EXECUTE TASK") for s in cur.log) == 1


def test_a_graph_that_does_not_end_is_an_error_naming_what_ran():
    cur = History([[(DIMS, "SUCCEEDED", ""), (FACTS, "EXECUTING", "")]])
    slept: list[float] = []
    with pytest.raises(LoadError, match=rf"{DIMS} → {FACTS} did not end within 20 s .*{FACTS} EXECUTING"):
        wait_for(cur, DB, "since", ("dimensions_task", "facts_task"), timeout=20, sleep=slept.append)
    assert sum(slept) == 20
