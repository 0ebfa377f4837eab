"""Synthetic data never reaches a prod stack: every generating command refuses it before reaching
anything, and only `generate --first-fill` may fill an empty prod stack, once, logged."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from scripts.analytics.__main__ import app as analytics
from scripts.cdc.__main__ import app as cdc
from scripts.core.guard import ProdDataError, guard_synthetic
from scripts.recommendations.__main__ import app as recommendations


@pytest.mark.parametrize(
    ("app", "args", "what"),
    [
        (recommendations, ["all", "--stack", "prod"], "generate"),
        (recommendations, ["generate", "--stack", "prod"], "generate"),
        (analytics, ["all", "--stack", "prod"], "generate"),
        (analytics, ["generate", "--stack", "prod"], "generate"),
        (analytics, ["changes", "--stack", "prod"], "changes"),
        (cdc, ["generate", "--stack", "prod", "--duration", "1"], "order changes"),
        (cdc, ["all", "--stack", "prod"], "order changes"),
    ],
)
def test_generating_into_prod_is_refused_before_anything_is_reached(app, args, what, monkeypatch):
    def no_outputs(*a, **k):  # the refusal comes first: no stack output is even read
        raise AssertionError("reached the stack")

    monkeypatch.setattr("scripts.core.connections.stack_outputs", no_outputs)
    result = CliRunner().invoke(app, args)
    out = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert f"{what}: refusing to write synthetic data into prod stack 'prod'" in out


def test_the_stand_ins_and_other_stacks_are_not_guarded():
    called = []
    guard_synthetic("prod", True, "generate", False, lambda: called.append(1) or True)  # --local
    guard_synthetic("dev", False, "generate", False, lambda: called.append(1) or True)
    assert called == []


@pytest.mark.parametrize("stack", ["prod", "production", "prod-eu"])
def test_a_first_fill_of_an_empty_prod_stack_is_allowed_and_logged(stack, caplog):
    with caplog.at_level(logging.WARNING, logger="scripts.guard"):
        guard_synthetic(stack, False, "generate", True, lambda: True)
    assert f"FIRST FILL of prod stack {stack!r}" in caplog.text


def test_a_first_fill_of_a_prod_stack_holding_data_is_refused():
    with pytest.raises(ProdDataError, match="only for an empty stack"):
        guard_synthetic("prod", False, "generate", True, lambda: False)
    with pytest.raises(ProdDataError, match="changes: refusing"):  # a simulated day is never a first fill
        guard_synthetic("prod", False, "changes", True, lambda: True)


def test_a_stack_configured_as_prod_is_prod_whatever_its_name(monkeypatch):
    monkeypatch.setattr("infra.config.reader.stack_config", lambda s: SimpleNamespace(environment="prod"))
    with pytest.raises(ProdDataError, match="prod stack 'live'"):
        guard_synthetic("live", False, "generate", False, lambda: True)
