"""The analytics dashboard on the stand-in: `make local` starts it in the background against the
stand-in's GOLD tables and CDC view."""

from __future__ import annotations

from infra.config.reader import stack_config
from scripts.core.console import console
from scripts.core.rehearsal import LocalRun, keep_running
from scripts.dashboard import serve

TITLE = "analytics dashboard on 127.0.0.1 (Streamlit, the stand-in's GOLD tables and CDC view)"


def rehearse(run: LocalRun) -> None:
    """Start the dashboard (on `run.ports["dashboard"]` if free) and say where it is."""
    port = run.ports.get("dashboard", 8501)
    database = stack_config(run.stack).naming.database
    dash = keep_running("dashboard", lambda free: serve.start(database, free), port)
    console.print(f"  dashboard: {dash.url}  (log {dash.log}; `make stop` ends it)")
