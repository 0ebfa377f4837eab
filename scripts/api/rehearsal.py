"""The recommendation API on the stand-ins: `make local` starts the orchestrator in the background and
asks it for a real customer's recommendations."""

from __future__ import annotations

import json

from scripts.api import serve
from scripts.api.loads import a_customer, ask
from scripts.core.console import console
from scripts.core.rehearsal import LocalRun, keep_running
from scripts.core.target import local_target

TITLE = "recommendation API on 127.0.0.1"


def rehearse(run: LocalRun) -> None:
    """Start the orchestrator (on `run.ports["api"]` if free), and show one answer."""
    t = local_target(run.stack)
    port = run.ports.get("api", 8000)
    api = keep_running(
        "orchestrator", lambda free: serve.start("orchestrator", serve.api_env(t), free, workers=None), port
    )
    url, body = ask(api.url, a_customer(t))
    console.print(f"  GET {url}")
    console.print_json(json.dumps(body))
    console.print(
        f"  The API keeps running: test page {api.url}/ , health {api.url}/health, log {api.log}. "
        "`make stop` ends it with the stand-ins; `python -m scripts.api serve` runs it in the foreground."
    )
