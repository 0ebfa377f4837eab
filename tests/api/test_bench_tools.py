"""The API bench's tools: the wrk script parses, drives the API and counts answers from another backend
than the path measured (a bench that only checked the first answer once measured a mix of paths); the
in-process cost measurement runs as the server is configured and refuses a mixed path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import standins
from scripts.api.bench import WRK_LUA, in_process, lua_customers, wrk
from tests.api.conftest import home_customers


def customer_ids(target) -> list[tuple[int, str]]:
    return home_customers(target, 50)


def test_the_in_process_cost_is_measured_on_the_postgres_path(env, target, ranked):
    figures = in_process({**env, "PRECOMPUTED_TOP_N": "0"}, customer_ids(target), n=50)
    assert figures["CPU ms a request"] > 0 and figures["  scoring ms"] > 0, figures
    assert figures["share answered precomputed"] == 0, figures
    figures = in_process(env, customer_ids(target), n=50)  # customers at home: the sync's rankings
    assert figures["share answered precomputed"] == 1 and figures["  scoring ms"] == 0, figures
    with pytest.raises(RuntimeError, match="not only from Postgres"):
        in_process({**env, "PG_PORT": str(standins.free_port())}, customer_ids(target), n=50)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is installed by `make setup`")
def test_wrk_counts_the_answers_of_another_backend(live_api, target, tmp_path):
    ids = customer_ids(target)
    figures = {}
    for backend in ("postgres", "dynamodb"):
        script = Path(tmp_path) / f"{backend}.lua"
        script.write_text(WRK_LUA % (lua_customers(ids), backend))
        figures[backend] = wrk(live_api.url, script, 2, 1)
    assert figures["postgres"]["req/s"] > 0 and figures["postgres"]["other backend"] == 0, figures
    assert figures["postgres"]["non-2xx"] == figures["postgres"]["socket errors"] == 0, figures
    assert figures["dynamodb"]["other backend"] > 0, figures  # every answer came from Postgres
