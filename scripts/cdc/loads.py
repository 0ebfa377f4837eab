"""The CDC pipeline's steps against a deployed stack or the stand-in: `generate` changes, `refresh` the
dynamic tables, `show` the aggregated table and the monitoring view.

Against a stack the generator writes as the insert-only CDC writer role, and `refresh` is Snowflake's
own `ALTER DYNAMIC TABLE … REFRESH` (the refresh task's statement) run as TRANSFORMER; `--local` runs
the same SQL on the stand-in through the rehearsal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.cdc import catalog
from infra.cdc.catalog import fq
from infra.cdc.config import CdcGenerator
from infra.config.reader import stack_config
from infra.sqlfiles import named_queries
from scripts.cdc.generate import RunReport, run, source_for
from scripts.cdc.rehearsal import LocalCdc, Refresh
from scripts.cdc.writer import LocalWriter, StageWriter
from scripts.core.connections import connect_stack, connect_standin, fetch_dicts, stack_outputs, transformer_session
from scripts.core.errors import LoadError
from scripts.core.guard import guard_synthetic


class CdcError(LoadError):
    """A CDC step failed; the message names the step and the cause."""


@dataclass
class CdcTarget:
    """Where the steps run: a deployed stack, or the stand-in."""

    stack: str
    local: bool
    database: str
    generator: CdcGenerator
    connect_writer: Callable[[], Any]
    connect_operator: Callable[[], Any]


def local_target(stack: str = "dev", database: str | None = None) -> CdcTarget:
    """The stand-in, with the stack's database (or `database`): one session writes and operates."""
    cfg = stack_config(stack)
    db = database or cfg.naming.database
    return CdcTarget(stack, True, db, cfg.cdc.generator, lambda: connect_standin(db), lambda: connect_standin(db))


def stack_target(stack: str) -> CdcTarget:
    """A deployed stack: the loader as the insert-only CDC writer role writes, TRANSFORMER refreshes."""
    cfg = stack_config(stack)
    out = stack_outputs(stack, ("database", "serviceUsers", "functionalRoles", "warehouses", "cdcWriterRole"))
    account = f"{cfg.snowflake.organization}-{cfg.snowflake.account}"
    user, role, warehouse = out["serviceUsers"]["loader"], out["cdcWriterRole"], out["warehouses"]["load"]

    def connect_writer() -> Any:
        return connect_stack(account, user, role, warehouse, out["database"], "loader")

    return CdcTarget(
        stack, False, out["database"], cfg.cdc.generator, connect_writer, lambda: transformer_session(cfg, out)
    )


def prepare_local(t: CdcTarget) -> None:
    """On the stand-in, what `pulumi up` declares."""
    with t.connect_operator() as conn:
        LocalCdc(conn, t.database).setup()


def generate(
    t: CdcTarget,
    *,
    rate: int | None = None,
    burst: int | None = None,
    duration: float | None = None,
    events: int | None = None,
    overrides: dict | None = None,
    progress: bool = True,
) -> RunReport:
    """Changes into ORDER_CHANGES at `rate` (default the config's) until `duration` or `events`."""
    cfg = t.generator.model_copy(update=overrides or {})
    with t.connect_writer() as conn:
        # simulated orders never go into a prod stack's change log (the writer role cannot read it)
        guard_synthetic(t.stack, t.local, "order changes", False, lambda: False)
        writer = (LocalWriter if t.local else StageWriter)(conn, t.database)
        source = source_for(writer, cfg)
        rate = cfg.rate if rate is None else rate
        return run(source, writer, rate, burst=burst, duration=duration, events=events, progress=progress)


def refresh(t: CdcTarget, full: bool = False) -> Refresh | str:
    """The dynamic tables now: the stand-in's refresh, or the refresh task's statement in Snowflake."""
    with t.connect_operator() as conn:
        if t.local:
            return LocalCdc(conn, t.database).refresh(full=full)
        conn.cursor().execute(catalog.refresh_task_sql(t.database))
        return f"refreshed {catalog.CATALOG.name('orders_aggregated')} and the dynamic tables it reads"


def show(t: CdcTarget) -> dict[str, list[dict]]:
    """ORDERS_AGGREGATED and CDC_MONITORING, as rows."""
    q = named_queries(
        "cdc/show.sql", aggregated=fq(t.database, "orders_aggregated"), monitoring=fq(t.database, "monitoring")
    )
    with t.connect_operator() as conn:
        if t.local:
            LocalCdc(conn, t.database).monitoring()  # (re)creates the view on the stand-in
        cur = conn.cursor()
        out = {}
        for key, sql in q.items():
            cur.execute(sql)
            out[key] = fetch_dicts(cur)
        return out
