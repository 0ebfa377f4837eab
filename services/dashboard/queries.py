"""The dashboard's one way to its data: the queries in sql/dashboard/, run through a Snowpark session
inside Snowflake (Streamlit in Snowflake) or through the connector against the local stand-in.

The app never holds SQL text: it names a query, this module fills the file's placeholders (the
database, and the date range as DATE literals built from `date` objects, never from free text) and
returns a DataFrame with upper-case column names and floats for Snowflake's NUMBER columns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
LOCAL_ENV = ("RDP_DASHBOARD_SNOWFLAKE_HOST", "RDP_DASHBOARD_SNOWFLAKE_PORT", "RDP_DASHBOARD_DATABASE")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)


class DataError(RuntimeError):
    """A query could not run; the message names the query and the cause, for the page to show."""


def sql_dir() -> Path:
    """Deployed, the files sit in sql/ beside the app on its stage; in the repository, in sql/dashboard/."""
    places = [HERE / "sql", *(p / "sql" / "dashboard" for p in HERE.parents[1:2])]
    for d in places:
        if d.is_dir():
            return d
    raise DataError(f"no SQL directory: looked in {', '.join(str(d) for d in places)}")


@cache
def _text(name: str) -> str:
    """A query file's text, read once per process (the files ship with the app and do not change)."""
    path = sql_dir() / f"{name}.sql"
    if not path.is_file():
        raise DataError(f"unknown query {name!r}: no {path}")
    return path.read_text(encoding="utf-8")


def names() -> list[str]:
    """Every query the dashboard may run."""
    return sorted(p.stem for p in sql_dir().glob("*.sql"))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def render(name: str, database: str, start: date | None = None, end: date | None = None) -> str:
    """The text of query `name`; a placeholder it needs and is not given is an error, not a blank."""
    text = _text(name)
    params: dict[str, str] = {"db": quote_ident(database)}
    for key, day in (("start", start), ("end", end)):
        if day is not None:
            if not isinstance(day, date):
                raise DataError(f"{name}: {key} must be a date, got {type(day).__name__}")
            params[key] = f"'{day.isoformat()}'::DATE"
    missing = sorted(set(_PLACEHOLDER.findall(text)) - params.keys())
    if missing:
        raise DataError(f"{name}: needs {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: params[m.group(1)], text)


def monitor_text(capability: str) -> str:
    """The monitor's queries of a capability: deployed, sql/monitor/<cap>.sql beside the app; in the
    repository, sql/<cap>/monitor.sql (the file `python -m scripts.monitor` runs)."""
    places = [HERE / "sql" / "monitor" / f"{capability}.sql", HERE.parents[1] / "sql" / capability / "monitor.sql"]
    for path in places:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise DataError(f"no monitor queries for {capability}: looked in {', '.join(str(p) for p in places)}")


def monitor_queries(capability: str, params: dict[str, str]) -> dict[str, str]:
    """A monitor file's statements by name (each after a `-- name: <key>` line), placeholders filled."""
    text = monitor_text(capability)
    missing = sorted(set(_PLACEHOLDER.findall(text)) - params.keys())
    if missing:
        raise DataError(f"monitor queries of {capability}: needs {', '.join(missing)}")
    parts = _NAME.split(_PLACEHOLDER.sub(lambda m: params[m.group(1)], text))
    return {key: body.strip().rstrip(";").strip() for key, body in zip(parts[1::2], parts[2::2], strict=True)}


def tidy(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Upper-case names, and floats for decimal columns (the charts and the sums need numbers)."""
    df = pd.DataFrame.from_records(rows, columns=[c.upper() for c in columns])
    for col in df.columns:
        if df[col].dtype == object and df[col].map(lambda v: v is None or isinstance(v, Decimal)).all():
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


@dataclass
class Source:
    """Where queries run: `run(sql)` returns rows and column names; `database` is the stack's; `local`
    when it is the stand-in (which records only some of what Snowflake's metadata tells)."""

    database: str
    run: Callable[[str], tuple[list[tuple], list[str]]]
    where: str
    local: bool = False

    def frame(self, name: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        sql = render(name, self.database, start, end)
        try:
            rows, columns = self.run(sql)
        except Exception as e:  # the page shows which query failed and why, never a traceback
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DataError(f"query {name} failed on {self.where}: {first}") from e
        return tidy(rows, columns)


def local_source(env: dict[str, str] | None = None) -> Source:
    """The connector against the fakesnow stand-in, from RDP_DASHBOARD_* variables."""
    import snowflake.connector

    env = dict(os.environ if env is None else env)
    missing = [k for k in LOCAL_ENV if not env.get(k)]
    if missing:
        raise DataError(f"set {', '.join(missing)} to run the dashboard outside Snowflake")
    host, port, database = (env[k] for k in LOCAL_ENV)
    try:
        conn = snowflake.connector.connect(
            user="local",
            password="local",
            account="fakesnow",
            host=host,
            port=int(port),
            protocol="http",
            database=database,
            autocommit=True,
            login_timeout=10,
        )
    except (snowflake.connector.errors.Error, ValueError) as e:
        raise DataError(f"cannot reach the stand-in at {host}:{port}: {str(e).splitlines()[0]}") from None

    def run(sql: str) -> tuple[list[tuple], list[str]]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall(), [d[0] for d in cur.description]

    return Source(database, run, f"the stand-in at {host}:{port}", local=True)


def snowflake_source() -> Source:
    """Inside Streamlit in Snowflake: the app's own session, whose current database is the app's."""
    from snowflake.snowpark.context import get_active_session  # only present in Snowflake

    session = get_active_session()
    database = (session.get_current_database() or "").strip('"')

    def run(sql: str) -> tuple[list[tuple], list[str]]:
        df = session.sql(sql).to_pandas()
        return list(df.itertuples(index=False, name=None)), list(df.columns)

    return Source(database, run, f"Snowflake ({database})")


def open_source(env: dict[str, str] | None = None) -> Source:
    """The stand-in when RDP_DASHBOARD_SNOWFLAKE_HOST is set, else the Snowflake session."""
    env_map: Any = os.environ if env is None else env
    if env_map.get(LOCAL_ENV[0]):
        return local_source(dict(env_map))
    try:
        return snowflake_source()
    except ImportError:
        raise DataError(
            f"not inside Snowflake and {LOCAL_ENV[0]} is not set: start it with `python -m scripts.dashboard serve`"
        ) from None
