"""The dashboard on 127.0.0.1 against the stand-in's analytics and CDC tables (make local, tests)."""

from __future__ import annotations

import sys

from infra.dashboard import bundle
from scripts import standins
from scripts.standins.apps import Running, start_http

HEALTH = "/_stcore/health"


def dashboard_env(database: str) -> dict[str, str]:
    """What services/dashboard/queries.py reads to use the fakesnow stand-in instead of a Snowflake session."""
    ep = standins.endpoints()
    return {
        "RDP_DASHBOARD_SNOWFLAKE_HOST": ep.snowflake_host,
        "RDP_DASHBOARD_SNOWFLAKE_PORT": str(ep.snowflake_port),
        "RDP_DASHBOARD_DATABASE": database,
    }


def start(database: str, port: int | None = None) -> Running:
    """`streamlit run` the app headless on 127.0.0.1, and wait until it answers its health check."""
    options = {
        "server.address": "127.0.0.1",
        "server.port": "{port}",
        "server.headless": "true",
        "browser.gatherUsageStats": "false",
        "global.developmentMode": "false",
        "client.toolbarMode": "viewer",
    }
    cmd = [sys.executable, "-m", "streamlit", "run", str(bundle.APP_DIR / bundle.MAIN_FILE)]
    cmd += [arg for key, value in options.items() for arg in (f"--{key}", value)]
    fix = "fix what the log reports (`make setup` installs streamlit), then run `make local` again"
    return start_http("dashboard", cmd, dashboard_env(database), port, HEALTH, fix)
