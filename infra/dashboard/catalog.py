"""The dashboard's names, with no Pulumi import: the stage its files are published to and the Streamlit app."""

from __future__ import annotations

from infra.naming import Catalog

CATALOG = Catalog({"stage": ("GOLD", "DASHBOARD_STAGE"), "app": ("GOLD", "ANALYTICS_DASHBOARD")})
