"""The shape the code keeps: one direction of imports, small modules and functions, code that speaks
of the platform rather than of its history."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

TREES = ("infra", "stacks", "scripts", "services")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Which top-level packages each tree may import (the flow: config → stacks → infra components;
# scripts and services never import stacks; nothing imports tests).
ALLOWED = {
    "infra": {"infra"},
    "stacks": {"infra", "stacks"},
    "scripts": {"infra", "scripts", "services"},
    "services": {"services"},
}
HISTORY = re.compile(r"(issue ?#?[0-9]{1,3}|seeds? 00[0-9])\b", re.I)


def sources(*trees: str) -> list[Path]:
    return sorted(p for t in trees for p in (ROOT / t).rglob("*.py") if "__pycache__" not in p.parts)


def project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & {*TREES, "tests"}


@pytest.mark.parametrize("tree", TREES)
def test_imports_flow_one_way(tree):
    wrong = {
        str(p.relative_to(ROOT)): sorted(project_imports(p) - ALLOWED[tree])
        for p in sources(tree)
        if project_imports(p) - ALLOWED[tree]
    }
    assert not wrong, f"imports against the flow: {wrong}"


def test_services_share_code_only_through_the_features_library():
    """Training imports the pair features from services/features, never from an app's package."""
    apps = [d.name for d in (ROOT / "services").iterdir() if (d / "Dockerfile").is_file()]
    for p in sources("scripts", "infra"):
        text = p.read_text()
        for app in apps:
            assert f"services.{app}" not in text, f"{p.relative_to(ROOT)} reaches into services/{app}"


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in sources(*TREES) if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split by responsibility): {long}"


def _is_component_constructor(node: ast.FunctionDef, parents: dict) -> bool:
    cls = parents.get(node)
    if node.name != "__init__" or not isinstance(cls, ast.ClassDef):
        return False
    return any(isinstance(b, ast.Attribute) and b.attr == "ComponentResource" for b in cls.bases)


def test_no_function_is_too_long():
    """Component constructors that only declare resources are exempt; everything else stays short."""
    long = []
    for p in sources(*TREES):
        tree = ast.parse(p.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES and not _is_component_constructor(node, parents):
                long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions over 80 lines: " + "; ".join(long)


def test_no_private_names_reached_across_modules():
    """`module._name` from another module couples to what its owner may change at will."""
    bad = []
    for p in sources(*TREES):
        tree = ast.parse(p.read_text())
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in imported
            ):
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert not bad, f"private names used across modules: {bad}"


def test_code_speaks_of_the_platform_not_its_history():
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in sources(*TREES, "tests")
        for i, line in enumerate(p.read_text().splitlines(), start=1)
        if HISTORY.search(line)
    ]
    assert not hits, f"issue or seed numbers in code: {hits}"
