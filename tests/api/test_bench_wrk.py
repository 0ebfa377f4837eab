"""The API bench's wrk script: it parses, drives the API, and counts answers from another backend than
the path measured (a bench that only checked the first answer once measured a mix of paths)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from scripts.api import serve
from scripts.bench.api import WRK_LUA, wrk

pytestmark = pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is installed by `make setup`")


@pytest.fixture(scope="module")
def api(env):
    server = serve.start("orchestrator", env)
    yield server
    server.stop()


def test_wrk_counts_the_answers_of_another_backend(api, target, tmp_path):
    with psycopg.connect(target.pg_dsn) as conn:
        ids = [r[0] for r in conn.execute(f"SELECT customer_id FROM {target.pg_schema}.customer_features LIMIT 50")]
    figures = {}
    for backend in ("postgres", "dynamodb"):
        script = Path(tmp_path) / f"{backend}.lua"
        script.write_text(WRK_LUA % (", ".join(map(str, ids)), backend))
        figures[backend] = wrk(api.url, script, 2, 1)
    assert figures["postgres"]["req/s"] > 0 and figures["postgres"]["other backend"] == 0, figures
    assert figures["postgres"]["non-2xx"] == figures["postgres"]["socket errors"] == 0, figures
    assert figures["dynamodb"]["other backend"] > 0, figures  # every answer came from Postgres
