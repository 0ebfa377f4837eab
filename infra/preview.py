"""Which resource types the installed pulumi-snowflake treats as preview features.

The real provider only refuses an unlisted preview resource at apply time; this lets the offline
plan catch it before a PR merges.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pulumi_snowflake


@lru_cache(maxsize=1)
def preview_features() -> frozenset[str]:
    """Parsed from the provider's own documentation of `preview_features_enabled`."""
    text = Path(pulumi_snowflake.__file__).with_name("provider.py").read_text()
    m = re.search(r"Preview features that can be enabled are: (.*?)\. Promoted features", text, re.S)
    if not m:
        raise RuntimeError("could not find the preview feature list in pulumi_snowflake/provider.py")
    return frozenset(re.findall(r"<code>(snowflake_\w+)</code>", m.group(1)))


def feature_for(type_token: str) -> str:
    """`snowflake:index/fileFormat:FileFormat` -> `snowflake_file_format_resource`."""
    cls = type_token.rsplit(":", 1)[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls).lower()
    return f"snowflake_{snake}_resource"


def missing_preview_flags(plan: list[dict]) -> list[str]:
    """Resources whose preview feature is not enabled on the provider that manages them."""
    providers = {r["urn"]: r for r in plan if r["type"] == "pulumi:providers:snowflake"}
    problems = []
    for r in plan:
        if not r["type"].startswith("snowflake:"):
            continue
        feature = feature_for(r["type"])
        if feature not in preview_features():
            continue
        prov = providers.get(r["provider"] or "")
        enabled = (prov or {}).get("inputs", {}).get("previewFeaturesEnabled") or []
        if feature not in enabled:
            who = prov["name"] if prov else "the default provider"
            problems.append(f"{r['type']} {r['name']}: {feature} is not enabled on {who}")
    return problems
