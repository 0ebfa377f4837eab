"""The API's names, ports and build contexts, with no Pulumi import: the image repository and the two
services in ML_REGISTRY, the tables the warehouse fallback reads (the recommendations catalog's names),
and the image and DNS forms SPCS uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.images import spcs_image_path
from infra.naming import Catalog
from infra.recommendations.catalog import CATALOG as RECOMMENDATIONS

__all__ = ["spcs_image_path"]  # the SPCS form of an image, as the API's callers know it from here
SERVICES = ("ranker", "orchestrator")  # in creation order: the orchestrator calls the ranker
PORTS = {"orchestrator": 8000, "ranker": 8080}
PUBLIC_ENDPOINT = "api"  # the orchestrator's public endpoint (its spec.yaml.tmpl)
SERVICE_SCHEMA = "ML_REGISTRY"
CATALOG = Catalog(
    {
        "repository": (SERVICE_SCHEMA, "RETAIL_IMAGES"),
        "orchestrator": (SERVICE_SCHEMA, "ORCHESTRATOR_SERVICE"),
        "ranker": (SERVICE_SCHEMA, "RANKER_SERVICE"),
    }
)
# Where each image is built from, relative to the project directory (where Pulumi runs), so plans
# do not embed a checkout path. The orchestrator's context is services/ because its image also
# carries services/features, the pair features it shares with the ranker's training.
BUILD_CONTEXTS = {"ranker": "services/api/ranker", "orchestrator": "services"}
# What the warehouse fallback reads (services/api/orchestrator/orchestrator/backends.py): schema → the
# recommendations catalog's keys of its tables (the component's `tables` are keyed the same), and names.
SERVED_TABLE_KEYS = {"GOLD": ["USER_PRODUCT_RECOMMENDATIONS"], "BRONZE": ["PRODUCT_CATALOG", "INVENTORY"]}
SERVED_TABLES = {schema: [RECOMMENDATIONS.name(k) for k in keys] for schema, keys in SERVED_TABLE_KEYS.items()}


def internal_dns(service: str, schema: str, database: str) -> str:
    """The service's name inside SPCS (dashes for underscores, lower case)."""
    return (
        "-".join(service.lower().split("_"))
        + f".{schema.lower()}.{database.lower()}".replace("_", "-")
        + (".snowflakecomputing.internal")
    )


def public_url(rows: Iterable[Mapping[str, Any]] | None, endpoint: str = PUBLIC_ENDPOINT) -> str:
    """`https://<ingress_url>` of `endpoint` from SHOW ENDPOINTS IN SERVICE, or "" while it has none: SPCS
    reports "Endpoints provisioning in progress..." there for a minute or so after the service is created
    (a `pulumi refresh` or the next `up` reads it again)."""
    for row in rows or []:
        host = str(row.get("ingress_url") or "")
        if row.get("name") == endpoint and host and " " not in host and "." in host:
            return "https://" + host.removeprefix("https://")
    return ""
