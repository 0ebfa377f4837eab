"""Every Snowflake object the stacks declare carries a comment with its business context, so `SHOW …`
and Snowsight answer "what is this for" without the repository. Which types take a comment is read from
the provider's own Python SDK (the resource's constructor), not listed by hand."""

from __future__ import annotations

import importlib
import inspect
from functools import cache

import pytest

MIN_WORDS = 3  # "the facts table" is not context; a comment says what the object holds or does


@cache
def takes_comment(token: str) -> bool:
    """Whether the provider's resource for `token` (`snowflake:index/table:Table`) has a `comment` input."""
    module, _, cls = token.split(":", 1)[1].partition(":")
    sdk = importlib.import_module("pulumi_snowflake")
    resource = getattr(sdk, cls, None)
    if resource is None:
        raise AssertionError(f"{token}: no class {cls} in pulumi_snowflake (module {module})")
    return "comment" in inspect.signature(resource._internal_init).parameters


def missing_comments(plan: list[dict]) -> list[str]:
    """Logical names of the declared Snowflake objects whose type takes a comment and that have none
    (or one too short to say anything)."""
    out = []
    for r in plan:
        if not r["type"].startswith("snowflake:") or not takes_comment(r["type"]):
            continue
        comment = r["inputs"].get("comment")
        if not isinstance(comment, str) or len(comment.split()) < MIN_WORDS:
            out.append(f"{r['name']} ({r['type'].rsplit(':', 1)[-1]}): {comment!r}")
    return out


@pytest.mark.parametrize("stack", ["dev", "prod", "account"])
def test_every_declared_snowflake_object_has_a_comment(all_plans, stack):
    assert missing_comments(all_plans[stack]) == []


def test_the_check_reads_the_provider_and_catches_a_missing_comment(plans):
    assert takes_comment("snowflake:index/table:Table") and takes_comment("snowflake:index/task:Task")
    assert not takes_comment("snowflake:index/grantAccountRole:GrantAccountRole")
    table = next(r for r in plans["dev"] if r["type"] == "snowflake:index/table:Table")
    planted = [{**table, "inputs": {**table["inputs"], "comment": None}}]
    assert missing_comments(planted) == [f"{table['name']} (Table): None"]
    terse = [{**table, "inputs": {**table["inputs"], "comment": "facts"}}]
    assert len(missing_comments(terse)) == 1
