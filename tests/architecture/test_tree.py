"""The real tree keeps every architecture rule; each failure lists every violation of one rule."""

from __future__ import annotations

import pytest

from tests.architecture.rules import RULES, Rule
from tests.conftest import ROOT


@pytest.mark.parametrize("rule", RULES, ids=[r.__name__ for r in RULES])
def test_tree_keeps_the_rule(rule: Rule) -> None:
    found = rule(ROOT)
    assert not found, f"{rule.__name__}: {len(found)} violations ({rule.__doc__.split(chr(10))[0]})\n" + "\n".join(
        found
    )
