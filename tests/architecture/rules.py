"""The architecture rules: what shape every capability has and which way code may depend on code.

Each rule is a pure function `rule(root) -> list[str]` of readable violations naming file:line, so the
same rules check the real tree (test_tree) and small planted trees that prove each rule bites
(test_planted). The shape data lives here, in one place, to be adjusted as the platform grows.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from tests.architecture import dynamic
from tests.architecture.graph import Import, Index, Module, cycle_through, index, source_files, strongly_connected
from tests.architecture.references import stale_paths
from tests.architecture.sizes import comments, formatted_sources, long_functions

# ---------------------------------------------------------------------------------------------- data
CAPABILITIES = (
    "foundation",
    "ingestion",
    "analytics",
    "cdc",
    "dashboard",
    "recommendations",
    "serving",
    "api",
    "account",
    "operations",
)


@dataclass(frozen=True)
class TreeShape:
    """Which capabilities a tree has a directory for, the modules each must hold, and the tree's
    shared-core packages (every other package directory would be an undeclared capability)."""

    capabilities: tuple[str, ...]
    modules: tuple[str, ...]
    shared: tuple[str, ...]
    python: bool = True


def _but(*left_out: str) -> tuple[str, ...]:
    return tuple(c for c in CAPABILITIES if c not in left_out)


SHAPE: dict[str, TreeShape] = {
    "infra": TreeShape(CAPABILITIES, ("__init__.py", "config.py", "catalog.py", "component.py"), ("config", "policy")),
    "scripts": TreeShape(
        _but("foundation", "account", "operations"),
        ("__init__.py", "__main__.py", "loads.py", "rehearsal.py", "bench.py"),
        ("standins", "bench", "core", "monitor", "review"),
    ),
    "sql": TreeShape(_but("foundation", "api"), (), (), python=False),
    "tests": TreeShape(CAPABILITIES, (), ("architecture", "plan", "policy", "standins")),
}
# The services tree is organised by app, not by capability; its shared library is what others may import.
SHARED_CORE: dict[str, tuple[str, ...]] = {tree: s.shared for tree, s in SHAPE.items()} | {"services": ("features",)}
SHARED_LIBRARIES = tuple(f"services.{lib}" for lib in SHARED_CORE["services"])
# Another capability's modules that any module may import; all else of a capability is its own.
PUBLIC_MODULES = ("config", "catalog")
CAPABILITY_TREES = ("infra", "scripts")
# Which project modules each tree may import (tests may import every tree; nothing imports tests).
ALLOWED_IMPORTS: dict[str, tuple[str, ...]] = {
    "infra": ("infra",),
    "stacks": ("infra", "stacks"),
    "scripts": ("infra", "scripts", *SHARED_LIBRARIES),
    "services": ("services",),
    "sql": (),
}
# Trees that may reach services only as processes or files. Tests exercise the apps' code in process.
SERVICE_CLIENT_TREES = ("infra", "stacks", "scripts", "sql")
CODE_TREES = ("infra", "stacks", "scripts", "services")
FORMATTED_TREES = ("infra", "stacks", "scripts", "services", "sql", "tests")
SIZED_TREES = ("infra", "stacks", "scripts", "services", "sql", "tests")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
README_HEADING = "### Adding a capability"
FMT_GUARD = re.compile(r"#\s*fmt:\s*(skip|off)\b")
HISTORY = re.compile(r"(issue ?#?[0-9]{1,3}|seeds? 00[0-9])\b", re.I)

Rule = Callable[[Path], list[str]]


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _project_imports(m: Module) -> list[Import]:
    return [i for i in m.imports if i.project]


def _where(idx: Index, name: str) -> str:
    m = idx.modules.get(name)
    return m.path if m else name


# ------------------------------------------------------------------------------------- 1. import flow
def import_flow(root: Path) -> list[str]:
    """Imports flow one way (config → stacks → infra; scripts → infra), so a tree can change without
    breaking the trees it serves."""
    found = []
    for m in index(root).in_trees(*ALLOWED_IMPORTS):
        for i in _project_imports(m):
            if not _within(i.target, ALLOWED_IMPORTS[m.top]):
                allowed = ", ".join(ALLOWED_IMPORTS[m.top]) or "nothing of the project"
                found.append(f"{m.path}:{i.line}: imports {i.target} ({m.top} may import {allowed})")
    return found


# ---------------------------------------------------------------------------- 2. capability isolation
def capability_of(name: str) -> str | None:
    """The capability a module belongs to in infra or scripts, None for a tree's shared core."""
    parts = name.split(".")
    if len(parts) > 1 and parts[0] in CAPABILITY_TREES and parts[1] in CAPABILITIES:
        return parts[1]
    return None


def _is_public(name: str) -> bool:
    parts = name.split(".")
    return len(parts) > 2 and parts[0] == "infra" and parts[2] in PUBLIC_MODULES


def capability_isolation(root: Path) -> list[str]:
    """A capability is reached from outside only through infra's `config` and `catalog` modules, so
    its components and steps can change without touching another capability."""
    found = []
    for m in index(root).in_trees(*CAPABILITY_TREES):
        own = capability_of(m.name)
        for i in _project_imports(m):
            other = capability_of(i.target)
            if other is None or other == own or _is_public(i.target):
                continue
            who = f"capability {own}" if own else "shared core"
            public = " or ".join(f"infra.{other}.{p}" for p in PUBLIC_MODULES)
            found.append(f"{m.path}:{i.line}: {who} imports {i.target} (of {other}, only {public} are public)")
    return found


# ---------------------------------------------------------------------------------- 3. import cycles
def import_cycles(root: Path) -> list[str]:
    """No module cycles and no capability that depends on a capability depending on it: cycles make
    every member change with every other."""
    idx = index(root)
    edges: dict[str, set[str]] = {}
    lines: dict[tuple[str, str], int] = {}
    for m in idx.modules.values():
        for i in _project_imports(m):
            if i.target in idx.modules:
                edges.setdefault(m.name, set()).add(i.target)
                lines.setdefault((m.name, i.target), i.line)
    found = []
    for comp in strongly_connected(edges):
        loop = cycle_through(comp[0], set(comp), edges)
        steps = [f"{_where(idx, a)}:{lines[(a, b)]}" for a, b in pairwise(loop)]
        rest = f" (one loop of {len(comp)} modules: {', '.join(comp)})" if len(comp) > len(loop) - 1 else ""
        found.append(f"import cycle: {' -> '.join([*steps, _where(idx, loop[-1])])}{rest}")
    return found + _capability_cycles(idx)


def _capability_cycles(idx: Index) -> list[str]:
    edges: dict[str, set[str]] = {}
    example: dict[tuple[str, str], str] = {}
    for m in idx.in_trees(*CAPABILITY_TREES):
        own = capability_of(m.name)
        for i in _project_imports(m):
            other = capability_of(i.target)
            if own and other and other != own:
                edges.setdefault(own, set()).add(other)
                example.setdefault((own, other), f"{m.path}:{i.line} imports {i.target}")
    found = []
    for comp in strongly_connected(edges):
        loop = cycle_through(comp[0], set(comp), edges)
        why = "; ".join(example[(a, b)] for a, b in pairwise(loop))
        found.append(f"capability cycle {' -> '.join(loop)} (among {', '.join(comp)}): {why}")
    return found


# ----------------------------------------------------------------------------------- 4. private names
def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_names(root: Path) -> list[str]:
    """A `_name` is its module's to change at will; reaching it from another module couples to it."""
    found = []
    for m in index(root).in_trees(*CODE_TREES):
        if m.tree is None:
            continue
        bound: set[str] = set()
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Import):
                bound |= {a.asname or a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                bound |= {a.asname or a.name for a in node.names}
                where = f"{'.' * node.level}{node.module or ''}"
                found += [
                    f"{m.path}:{node.lineno}: imports {where}.{a.name}" for a in node.names if _is_private(a.name)
                ]
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                chain = dynamic.dotted(node)
                if chain and chain.split(".")[0] in bound:
                    found.append(f"{m.path}:{node.lineno}: uses {chain}")
    return found


# ------------------------------------------------------------------------------------------- 5. sizes
def sizes(root: Path) -> list[str]:
    """Modules and functions stay small as ruff formats them, component constructors included: a long
    one declares several things that want names of their own."""
    formatted = formatted_sources(root, SIZED_TREES)
    found = []
    for rel, text in sorted(formatted.items()):
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES:
            found.append(f"{rel}:1: {n} lines after ruff format (max {MAX_MODULE_LINES}; split by responsibility)")
        original = (root / rel).read_text(encoding="utf-8", errors="replace")
        for line, name, length in long_functions(original, text, MAX_FUNCTION_LINES):
            found.append(f"{rel}:{line}: {name} is {length} lines after ruff format (max {MAX_FUNCTION_LINES})")
    for p in source_files(root, ["sql"], suffix=""):
        if (
            p.suffix != ".py"
            and (n := len(p.read_text(encoding="utf-8", errors="replace").splitlines())) > MAX_MODULE_LINES
        ):
            found.append(f"{p.relative_to(root).as_posix()}:1: {n} lines (max {MAX_MODULE_LINES} for sql/ files)")
    return found


# ----------------------------------------------------------------------------------- 6. format guards
def _lines(root: Path, trees: tuple[str, ...]) -> list[tuple[str, int, str]]:
    return [
        (m.path, n, line) for m in index(root).in_trees(*trees) for n, line in enumerate(m.text.splitlines(), start=1)
    ]


def format_guards(root: Path) -> list[str]:
    """`# fmt: skip`/`# fmt: off` would let code escape the formatter and so the size limits; the
    tests are formatted like the rest."""
    return [
        f"{m.path}:{n}: {comment}"
        for m in index(root).in_trees(*FORMATTED_TREES)
        if m.path.endswith(".py")
        for n, comment in comments(m.text)
        if FMT_GUARD.search(comment)
    ]


# ------------------------------------------------------------------------- 7. services are processes
def services_as_processes(root: Path) -> list[str]:
    """Apps are reached as processes or files (their image, their URL), never as code: what they
    import is theirs to change, and only the shared library is meant to be imported."""
    idx = index(root)
    found = []
    for m in idx.in_trees(*SERVICE_CLIENT_TREES):
        found += [
            f"{m.path}:{i.line}: imports {i.target} (outside services only {', '.join(SHARED_LIBRARIES)} is code)"
            for i in _project_imports(m)
            if _within(i.target, ("services",)) and not _within(i.target, SHARED_LIBRARIES)
        ]
        if m.tree is not None:
            found += [f"{m.path}:{line}: {what}" for line, what in dynamic.service_code(m.tree, SHARED_LIBRARIES)]
    for m in idx.in_trees("services"):
        if m.tree is not None:
            found += [
                f"{m.path}:{line}: {what}" for line, what in dynamic.path_hacks_outside(m.tree, m.path, "services")
            ]
    return found


# ------------------------------------------------------------------------------ 8. scripts and Pulumi
def _is_pulumi(name: str) -> bool:
    top = name.split(".")[0]
    return top == "pulumi" or top.startswith("pulumi_")


def _pulumi_import(m: Module) -> str | None:
    return next((i.target.split(".")[0] for i in m.imports if not i.project and _is_pulumi(i.target)), None)


def scripts_without_pulumi(root: Path) -> list[str]:
    """Post-deploy steps and local runs never load the Pulumi SDK, not even through an infra module."""
    idx = index(root)
    step = idx.shortest_steps({m.name: p for m in idx.modules.values() if (p := _pulumi_import(m))})
    found = []
    for m in idx.in_trees("scripts"):
        direct = [i for i in m.imports if not i.project and _is_pulumi(i.target)]
        found += [f"{m.path}:{i.line}: imports {i.target}" for i in direct]
        reported = set()
        for line, t in idx.runs(m):
            if t.split(".")[0] == "scripts" or t not in step or line in reported:
                continue
            reported.add(line)
            chain, here = [m.path], t
            while here in idx.modules:
                chain.append(idx.modules[here].path)
                here = step[here]
            found.append(f"{m.path}:{line}: reaches Pulumi: {' -> '.join([*chain, here])}")
    return found


# -------------------------------------------------------------------------------------------- 9. shape
def _looks_like_package(path: Path, python: bool) -> bool:
    if not path.is_dir() or path.name.startswith((".", "__")):
        return False
    return not python or any(path.glob("*.py"))


def shape(root: Path) -> list[str]:
    """Every capability has the same shape in every tree, and every package is either a declared
    capability or the tree's declared shared core."""
    found = []
    for tree, s in SHAPE.items():
        base = root / tree
        for cap in s.capabilities:
            if not (base / cap).is_dir():
                found.append(f"{tree}/{cap}/: missing (every listed capability has one)")
                continue
            found += [f"{tree}/{cap}/{f}: missing" for f in s.modules if not (base / cap / f).is_file()]
        listed = {*s.capabilities, *s.shared}
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            if d.name in listed or not _looks_like_package(d, s.python):
                continue
            why = "not expected in this tree" if d.name in CAPABILITIES else "unlisted capability"
            found.append(f"{tree}/{d.name}/: {why} (declare it in SHAPE or in {tree}'s shared core)")
        found += _capability_code_outside(root, tree, s)
    return found


def _capability_code_outside(root: Path, tree: str, s: TreeShape) -> list[str]:
    """Modules named after a capability (`cdc.py`, `api_owner.py`) outside its directories: in the tree's
    top level or its shared core, where the shape has no place for them."""
    found = []
    for p in source_files(root, [tree]):
        rel = p.relative_to(root / tree).parts
        if rel[0] in s.capabilities or len(rel) > 2:
            continue
        owner = next((c for c in CAPABILITIES if p.stem == c or p.stem.startswith(c + "_")), None)
        if owner:
            found.append(f"{tree}/{'/'.join(rel)}:1: {owner} code outside {tree}/{owner}/")
    return found


def checklist() -> list[str]:
    """The path patterns SHAPE requires of a new capability, as the README lists them."""
    return [f"{tree}/<cap>/{module}" for tree, s in SHAPE.items() for module in (s.modules or ("",))]


def readme_checklist(root: Path) -> list[str]:
    """The README's checklist for adding a capability is the SHAPE this test enforces, so they cannot
    drift apart."""
    readme = root / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines() if readme.is_file() else []
    start = next((n for n, line in enumerate(lines) if line.strip() == README_HEADING), None)
    if start is None:
        return [f"README.md:1: no `{README_HEADING}` section with the checklist {checklist()}"]
    # The section's first fenced block, before any next heading (a sentence may introduce it).
    fence = next((n for n in range(start + 1, len(lines)) if lines[n].startswith(("```", "#"))), None)
    if fence is None or not lines[fence].startswith("```"):
        return [f"README.md:{start + 1}: `{README_HEADING}` is not followed by a fenced code block"]
    listed: dict[str, int] = {}
    for n in range(fence + 1, len(lines)):
        text = lines[n].strip()
        if text.startswith("```"):
            break
        if text and not text.startswith("#"):
            listed.setdefault(text.split()[0], n + 1)
    want = checklist()
    found = [f"README.md:{n}: {p} is listed but SHAPE does not require it" for p, n in listed.items() if p not in want]
    found += [f"README.md:{fence + 1}: {p} is required by SHAPE but not listed" for p in want if p not in listed]
    return found


# ----------------------------------------------------------------------------------------- 10. history
def no_history(root: Path) -> list[str]:
    """Code speaks of the platform as it is; issue and seed numbers belong to the history."""
    trees = (*CODE_TREES, "tests")
    return [f"{path}:{n}: {line.strip()}" for path, n, line in _lines(root, trees) if HISTORY.search(line)]


RULES: tuple[Rule, ...] = (
    import_flow,
    capability_isolation,
    import_cycles,
    private_names,
    sizes,
    format_guards,
    services_as_processes,
    scripts_without_pulumi,
    shape,
    readme_checklist,
    no_history,
    stale_paths,
)
