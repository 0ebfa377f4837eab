"""`make local`: bring up the stand-ins and rehearse the platform's data path on them.

The same names and SQL files the Pulumi program deploys are used here, so what runs locally is what
a stack runs in Snowflake and AWS.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from infra.config.reader import stack_config
from scripts import standins
from scripts.connections import connect_local, ensure_foundation

console = Console()
app = typer.Typer(add_completion=False, help=__doc__)


def create_foundation(ep: standins.Endpoints, stack: str = "dev") -> list[str]:
    """The database and layer schemas of the stack, created on the fakesnow endpoint."""
    with connect_local(ep.snowflake_host, ep.snowflake_port) as conn:
        return ensure_foundation(conn.cursor(), stack_config(stack).naming.database)


def run_ingestion(ep: standins.Endpoints, stack: str = "dev") -> dict[str, int]:
    """Customer ingestion on the stand-ins, with one clean file, one with bad rows and one empty file."""
    from scripts.ingestion.pipe import LocalIngestion
    from scripts.ingestion.upload import generate_customers, progress_bar, s3_client, upload_bytes

    li = LocalIngestion(ep, stack)
    try:
        li.setup()
        s3 = s3_client(ep.moto_url, li.cfg.aws_region)
        files = {
            "customers-day1.csv": generate_customers(5000, seed=1),
            "customers-day2.csv": generate_customers(2000, seed=2, bad_share=0.02, id_offset=4000),
            "customers-empty.csv": b"",
        }
        with progress_bar() as progress:
            for name, body in files.items():
                upload_bytes(s3, li.bucket, li.prefix + name, body, progress)
        for r in li.run_pipe():
            console.print(f"  pipe: {r.key} {r.status} loaded={r.rows_loaded} rejected={r.rows_rejected}")
        task = li.run_task()
        if task:
            console.print(f"  task: batch {task.batch} consumed {task.consumed} rows, staged {task.staged}")
        console.print(f"  error topic delivered {len(li.alerts())} message(s)")
        counts = li.counts()
        table = Table("layer", "rows")
        for k, v in counts.items():
            table.add_row(k, str(v))
        console.print(table)
        rejects = Table("file", "line", "reason", title="rejected rows (first 10)")
        for f, line, reason in li.rejected_rows(10):
            rejects.add_row(f, str(line), reason)
        console.print(rejects)
        return counts
    finally:
        li.close()


def run_recommendations(stack: str = "dev", customers: int = 5000) -> dict[str, int]:
    """The recommendations' post-deploy loads on the stand-ins, at a scale that takes well under a minute."""
    from scripts.recommendations import loads
    from scripts.recommendations.target import local_target

    t = local_target(stack)
    t.scale = t.scale.updated(customers=customers)
    counts = loads.run_all(t)
    table = Table("table", "rows", title="recommendations: rows per table")
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    console.print(table)
    return counts


def run_api(stack: str = "dev", port: int = 8000) -> dict:
    """Start the orchestrator in the background, ask it for a real customer's recommendations."""
    import json

    import httpx

    from scripts.api import serve
    from scripts.recommendations.target import local_target

    t = local_target(stack)
    standins.stop_app("orchestrator")
    api = serve.start("orchestrator", serve.api_env(t), port if not standins.port_open(port) else None, workers=None)
    standins.register_app("orchestrator", api.proc.pid, int(api.url.rsplit(":", 1)[1]))
    with t.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT MIN(CUSTOMER_ID) FROM {t.q('CUSTOMER_360')} WHERE TOTAL_ORDERS > 0")
        cid = int(cur.fetchone()[0])
    url = f"{api.url}/recommend?customer_id={cid}&zip_code=10001&top_n=5"
    body = httpx.get(url, timeout=10).json()
    console.print(f"  GET {url}")
    console.print_json(json.dumps(body))
    console.print(
        f"  The API keeps running: test page {api.url}/ , health {api.url}/health, log {api.log}. "
        "`make stop` ends it with the stand-ins; `python -m scripts.api.serve` runs it in the foreground."
    )
    return body


def run_analytics(stack: str = "dev") -> dict[str, int]:
    """The analytics pipeline on the stand-in: history → task graph → a day of changes → task graph."""
    from scripts.analytics import loads

    t = loads.local_target(stack)
    loads.prepare_local(t)
    generated = loads.generate(t, replace=True)
    console.print("  generated " + ", ".join(f"{k} {v:,}" for k, v in generated.items()))
    for label, step in (("history", None), ("a day of changes", loads.changes)):
        if step:
            step(t)
        runs = loads.run(t)
        console.print(f"  task graph after {label}: " + ", ".join(f"{r.task} {r.state}" for r in runs))
    counts = loads.counts(t)
    table = Table("layer", "table", "rows", title="analytics: rows per layer")
    for name, n in counts.items():
        layer = "gold" if name.startswith(("DIM_", "FACT_", "DAILY_")) else "bronze" if name.startswith("SHOP_") else (
            "silver (dynamic)" if name in ("ORDER_LINES", "ENRICHED_ORDERS", "PRODUCT_PERFORMANCE", "CURRENT_INVENTORY")
            else "streams/tasks")  # fmt: skip
        table.add_row(layer, name, f"{n:,}")
    console.print(table)
    return counts


def run_cdc(stack: str = "dev", seconds: float = 3.0) -> None:
    """Order changes on the stand-in: generate → refresh → generate → incremental refresh → show."""
    from scripts.cdc import loads
    from scripts.cdc.report import show

    t = loads.local_target(stack)
    loads.prepare_local(t)
    for _ in range(2):
        show("  generated", loads.generate(t, duration=seconds / 2, progress=False))
        show("  refresh", loads.refresh(t))
    show("cdc", loads.show(t))


def run_dashboard(stack: str = "dev", port: int = 8501) -> str:
    """Start the analytics dashboard in the background against the stand-in's GOLD tables; its URL."""
    from scripts.dashboard import serve

    standins.stop_app("dashboard")
    dash = serve.start(stack_config(stack).naming.database, port if not standins.port_open(port) else None)
    standins.register_app("dashboard", dash.proc.pid, int(dash.url.rsplit(":", 1)[1]))
    console.print(f"  dashboard: {dash.url}  (log {dash.log}; `make stop` ends it)")
    return dash.url


@app.command()
@standins.exits_in_one_line
def main(
    stack: str = typer.Option("dev", help="whose names to use on the stand-ins"),
    customers: int = typer.Option(5000, help="customers to generate (the reference scale is 50,000)"),
    api_port: int = typer.Option(8000, help="port of the recommendation API on 127.0.0.1"),
    dashboard_port: int = typer.Option(8501, help="port of the analytics dashboard on 127.0.0.1"),
) -> None:
    from infra.plan import run_plan, summary

    console.rule("stand-ins")
    ep = standins.start()
    console.rule("Snowflake foundation on fakesnow")
    for fq in create_foundation(ep, stack):
        console.print(f"  schema {fq}")
    console.rule("ingestion: upload → S3 event → pipe → Bronze → task → Silver → Gold")
    run_ingestion(ep, stack)
    console.rule("analytics: sources → streams → SCD2 dimensions → facts → summary; dynamic tables")
    run_analytics(stack)
    console.rule("order CDC: generator → ORDER_CHANGES → ORDERS_CURRENT → ORDERS_DERIVED → ORDERS_AGGREGATED")
    run_cdc(stack)
    console.rule("recommendations: generate → build → train → sync → export")
    run_recommendations(stack, customers)
    console.rule("recommendation API on 127.0.0.1")
    run_api(stack, api_port)
    console.rule("analytics dashboard on 127.0.0.1 (Streamlit, the stand-in's GOLD tables and CDC view)")
    run_dashboard(stack, dashboard_port)
    console.rule(f"offline plan of stack {stack}")
    counts = summary(run_plan(stack))
    table = Table("resources", "type")
    for typ, n in counts.items():
        table.add_row(str(n), typ)
    table.add_row(str(sum(counts.values())), "total")
    console.print(table)
    console.rule("endpoints (still running; `make stop` ends them)")
    for k, v in ep.as_env().items():
        console.print(f"  {k}={v}")


if __name__ == "__main__":
    app()
