"""The SQL-file loader: strict placeholders and named queries, so a typo fails loudly, not as blank SQL."""

from __future__ import annotations

import pytest

from infra import sqlfiles


@pytest.fixture()
def sql_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlfiles, "SQL_DIR", tmp_path)
    sqlfiles.read_sql.cache_clear()
    yield tmp_path
    sqlfiles.read_sql.cache_clear()


def test_named_queries_split_on_their_headers(sql_dir):
    (sql_dir / "q.sql").write_text("-- a comment\n\n-- name: one\nSELECT 1 FROM {{ t }};\n\n-- name: two\nSELECT 2;\n")
    assert sqlfiles.named_queries("q.sql", t='"T"') == {"one": 'SELECT 1 FROM "T"', "two": "SELECT 2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\n-- name: one\nSELECT 2;\n", "must follow a '-- name: <key>' line"),
        ("-- name: one\nSELECT 1;\n-- name: one\nSELECT 2;\n", "query 'one' is defined twice"),
    ],
)
def test_named_queries_refuse_unnamed_or_repeated_statements(sql_dir, text, message):
    (sql_dir / "bad.sql").write_text(text)
    with pytest.raises(ValueError, match=message):
        sqlfiles.named_queries("bad.sql")


def test_a_missing_or_unused_placeholder_is_an_error(sql_dir):
    (sql_dir / "p.sql").write_text("-- name: one\nSELECT {{ a }};\n")
    with pytest.raises(KeyError, match=r"missing placeholders \['a'\], unexpected \['b'\]"):
        sqlfiles.named_queries("p.sql", b="x")
