"""Each feed's cleaning is written once (sql/ingestion/dbt/macros/feeds.sql) and its MERGE once
(sql/ingestion/merge.sql): the stored procedures, the local task and dbt's silver model all use those
files, and no other SQL file of the capability writes a cleaning rule again (a planted copy is found)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.ingestion.catalog import FEED_MACROS, FEEDS
from infra.sqlfiles import SQL_DIR, render_macro

MACROS = SQL_DIR / FEED_MACROS
RULE = re.compile(r"REGEXP_LIKE\(|TRY_TO_(NUMBER|DATE)\(|INITCAP\(|REGEXP_REPLACE\(")  # what only a rule writes


def copies(root: Path) -> list[str]:
    """Every SQL file under `root` other than the macros file that writes a cleaning rule itself."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.sql") if p != MACROS and RULE.search(p.read_text()))


def test_no_sql_file_but_the_macros_writes_a_cleaning_rule(tmp_path):
    assert copies(SQL_DIR / "ingestion") == []
    # planted: the dbt model with the customer rules written out again, as it was before the macros
    planted = tmp_path / "silver_customer.sql"
    planted.write_text("SELECT TRY_TO_NUMBER(TRIM(CUSTOMER_ID)) AS CUSTOMER_ID FROM x")
    assert copies(tmp_path) == ["silver_customer.sql"]


@pytest.mark.parametrize("key", FEEDS)
def test_the_procedure_runs_the_macro_and_the_merge_keeps_its_version(key):
    feed = FEEDS[key]
    body = feed.procedure_sql("DB")
    assert feed.xfm_select_sql(feed.fq("DB", "stream")) in body
    assert feed.merge_sql("DB") in body
    # the key's version is the same column in the dedupe and in the MERGE's "not older" rule
    assert f"ORDER BY {feed.version} DESC NULLS LAST" in feed.xfm_select_sql("SRC")
    assert f"COALESCE(s.{feed.version}, " in feed.merge_sql("DB")
    assert f"PARTITION BY {', '.join(feed.primary_key)}\n" in feed.xfm_select_sql("SRC")


def test_dbt_calls_the_same_macro():
    model = (SQL_DIR / "ingestion/dbt/models/silver/silver_customer.sql").read_text()
    assert "{{ customer_xfm(source('bronze', 'work_customer_copy')) }}" in model


def test_an_unknown_macro_is_an_error_naming_the_file():
    with pytest.raises(KeyError, match=r"sql/ingestion/dbt/macros/feeds.sql: no macro 'returns_xfm'"):
        render_macro(FEED_MACROS, "returns_xfm", "SRC")
