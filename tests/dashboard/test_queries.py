"""The dashboard's data access (one module, the SQL files) and the publish step's statements."""

from __future__ import annotations

import ast
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infra.dashboard import bundle
from scripts.dashboard.loads import PublishError, deployer_connection, publish
from services.dashboard import queries


def test_every_query_the_app_names_is_a_file_and_no_sql_is_in_the_ui():
    named = set()
    for module in sorted(bundle.APP_DIR.glob("*.py")):  # every module of the app but the data access itself
        if module.name == "queries.py":
            continue
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("fetch", "load")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                named.add(node.args[0].value)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not re.search(r"\bSELECT\b[\s\S]*\bFROM\b", node.value, re.I), node.value
    assert named == set(queries.names())


def test_render_fills_the_database_and_dates_and_refuses_the_rest():
    sql = queries.render("payments", 'MY"DB', date(2026, 1, 1), date(2026, 1, 31))
    assert '"MY""DB".GOLD.FACT_SALES' in sql
    assert "BETWEEN '2026-01-01'::DATE AND '2026-01-31'::DATE" in sql and "{{" not in sql
    with pytest.raises(queries.DataError, match="payments: needs end, start"):
        queries.render("payments", "DB")
    with pytest.raises(queries.DataError, match="start must be a date"):
        queries.render("payments", "DB", "2026-01-01'; DROP TABLE X; --", date(2026, 1, 2))  # type: ignore[arg-type]
    with pytest.raises(queries.DataError, match="unknown query 'nope'"):
        queries.render("nope", "DB")


def test_frames_have_upper_case_names_and_float_money():
    df = queries.tidy([(date(2026, 1, 1), Decimal("1.50"), 3, None)], ["sales_date", "Revenue", "ORDERS", "MARGIN"])
    assert list(df.columns) == ["SALES_DATE", "REVENUE", "ORDERS", "MARGIN"]
    assert df["REVENUE"].dtype == float and df["REVENUE"].iloc[0] == 1.5 and df["ORDERS"].iloc[0] == 3


def test_a_failing_query_is_one_line_naming_the_query():
    def boom(sql: str):
        raise RuntimeError("002003 (42S02): Table 'FACT_SALES' does not exist\nmore detail")

    src = queries.Source("DB", boom, "test")
    with pytest.raises(queries.DataError) as e:
        src.frame("payments", date(2026, 1, 1), date(2026, 1, 2))
    assert str(e.value) == "query payments failed on test: 002003 (42S02): Table 'FACT_SALES' does not exist"


def test_local_source_names_the_missing_settings():
    with pytest.raises(queries.DataError, match="RDP_DASHBOARD_SNOWFLAKE_PORT, RDP_DASHBOARD_DATABASE"):
        queries.local_source({"RDP_DASHBOARD_SNOWFLAKE_HOST": "127.0.0.1"})


class Recorder:
    """A cursor that records statements; LIST answers with what a stage holds."""

    def __init__(self, listed: list[str]):
        self.sql: list[str] = []
        self.listed = listed
        self.put: dict[str, str] = {}

    def execute(self, sql: str) -> None:
        self.sql.append(sql)
        if sql.startswith("PUT 'file://"):  # what the file holds when it is PUT (a renamed copy is gone after)
            self.put[sql] = Path(sql.split("'")[1].removeprefix("file://")).read_text()

    def fetchall(self) -> list[tuple]:
        return [(name, 1, "md5", "date") for name in self.listed]


def test_publish_puts_every_file_then_removes_what_is_no_longer_in_the_app():
    stage = '"RDP_DEV_RETAIL"."GOLD"."DASHBOARD_STAGE"'
    files = bundle.files()
    listed = [f"dashboard_stage/app/{f.path}" for f in files] + [
        "dashboard_stage/app/sql/old.sql",
        "dashboard_stage/other/keep.txt",
    ]
    cur = Recorder(listed)
    done = publish(cur, stage)
    puts = [s for s in cur.sql if s.startswith("PUT")]
    assert len(puts) == len(files) == len(done.uploaded)
    main = next(
        s for s in puts if s.endswith(f"{bundle.MAIN_FILE}' '@{stage}/app' AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
    )
    assert main.startswith(f"PUT 'file://{bundle.APP_DIR}/")
    assert any(s.endswith(f"daily.sql' '@{stage}/app/sql' AUTO_COMPRESS = FALSE OVERWRITE = TRUE") for s in puts)
    # PUT keeps a file's own name: the monitor's sql/<cap>/monitor.sql goes up as sql/monitor/<cap>.sql
    monitor = [s for s in puts if f"'@{stage}/app/sql/monitor'" in s]
    assert sorted(s.split("'")[1].rsplit("/", 1)[1] for s in monitor) == ["analytics.sql", "cdc.sql", "ingestion.sql"]
    for s in monitor:
        cap = s.split("'")[1].rsplit("/", 1)[1].removesuffix(".sql")
        assert cur.put[s] == (bundle.ROOT / "sql" / cap / "monitor.sql").read_text()
    assert cur.sql[len(puts)] == f"LIST '@{stage}/app/'"
    assert cur.sql[len(puts) + 1 :] == [
        f"REMOVE '@{stage}/app/sql/old.sql' PATTERN = '.*/sql/old\\.sql'"
    ] and done.removed == ["sql/old.sql"]


@pytest.mark.parametrize(("stage", "directory"), [("", "app"), ("S'; DROP", "app"), ("S", "../x")])
def test_publish_refuses_bad_targets(stage, directory):
    with pytest.raises(PublishError, match="invalid stage"):
        publish(Recorder([]), stage, directory)


def test_publish_connection_names_what_is_missing(tmp_path):
    with pytest.raises(PublishError, match="SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY"):
        deployer_connection({"SNOWFLAKE_ORGANIZATION_NAME": "O", "SNOWFLAKE_ACCOUNT_NAME": "A"})
    with pytest.raises(PublishError, match="not an unencrypted PEM private key"):
        deployer_connection(
            {
                "SNOWFLAKE_ORGANIZATION_NAME": "O",
                "SNOWFLAKE_ACCOUNT_NAME": "A",
                "SNOWFLAKE_USER": "U",
                "SNOWFLAKE_PRIVATE_KEY": "not a key",
            }
        )
