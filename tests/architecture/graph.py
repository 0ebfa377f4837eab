"""The project's modules and the imports between them, parsed once per state of a tree.

Every rule that reasons about imports reads this one index, so they all agree on what a module is
called and which module an import statement reaches.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PROJECT_TREES = ("infra", "stacks", "scripts", "services", "sql", "tests")


@dataclass(frozen=True)
class Import:
    """One imported module: `target` is the project module reached (the longest known module of the
    dotted name) or, outside the project, the name as written."""

    line: int
    target: str
    project: bool


@dataclass
class Module:
    name: str
    path: str
    is_package: bool
    text: str
    tree: ast.Module | None
    imports: list[Import] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.path.split("/")[0]


@dataclass
class Index:
    root: Path
    modules: dict[str, Module]

    def in_trees(self, *trees: str) -> Iterator[Module]:
        """The modules of the given top-level trees, by path."""
        for m in sorted(self.modules.values(), key=lambda m: m.path):
            if m.top in trees:
                yield m

    def ancestors(self, name: str) -> list[str]:
        """The packages Python runs before `name` (`a.b.c` runs `a` and `a.b`)."""
        parts = name.split(".")
        return [p for i in range(1, len(parts)) if (p := ".".join(parts[:i])) in self.modules]

    def runs(self, m: Module) -> list[tuple[int, str]]:
        """(line, module) of every project module that importing `m` runs, parent packages included."""
        return [
            (i.line, t)
            for i in m.imports
            if i.project and i.target in self.modules
            for t in [*self.ancestors(i.target), i.target]
            if t != m.name
        ]

    def shortest_steps(self, goals: dict[str, str]) -> dict[str, str]:
        """For each module that runs (transitively) one of `goals`: the next module on a shortest way
        there; a goal module's step is its value (what it imports that is sought)."""
        step = dict(goals)
        importers: dict[str, set[str]] = {}
        for m in self.modules.values():
            for _, t in self.runs(m):
                importers.setdefault(t, set()).add(m.name)
        frontier = sorted(goals)
        while frontier:
            nxt = []
            for t in frontier:
                for m in sorted(importers.get(t, ())):
                    if m not in step:
                        step[m] = t
                        nxt.append(m)
            frontier = nxt
        return step


def source_files(root: Path, trees: Iterable[str], suffix: str = ".py") -> list[Path]:
    """Files of the trees, without caches and hidden directories."""
    found = []
    for tree in trees:
        base = root / tree
        if not base.is_dir():
            continue
        for p in base.rglob(f"*{suffix}"):
            rel = p.relative_to(root).parts
            if p.is_file() and "__pycache__" not in rel and not any(part.startswith(".") for part in rel):
                found.append(p)
    return sorted(found)


def fingerprint(root: Path, trees: Iterable[str], suffix: str = ".py") -> tuple:
    """What changes when a file of the trees changes, so caches follow edits to a tree."""
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in source_files(root, trees, suffix))


def index(root: Path) -> Index:
    """The parsed modules of every tree of `root` (cached until a file changes)."""
    root = root.resolve()
    return _index(root, fingerprint(root, PROJECT_TREES))


@cache
def _index(root: Path, _state: tuple) -> Index:
    modules: dict[str, Module] = {}
    for p in source_files(root, PROJECT_TREES):
        rel = p.relative_to(root)
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        text = p.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        name = ".".join(parts)
        modules[name] = Module(name, rel.as_posix(), is_package, text, tree)
    idx = Index(root, modules)
    for m in modules.values():
        m.imports = list(dict.fromkeys(_imports(idx, m)))
    return idx


def _known_prefix(idx: Index, dotted: str) -> str | None:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        if (cand := ".".join(parts[:i])) in idx.modules:
            return cand
    return None


def _app_root(m: Module) -> str | None:
    """A service's own directory is its import root (in its image, and for Streamlit's script dir)."""
    parts = m.name.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 2 else None


def _resolve(idx: Index, m: Module, dotted: str) -> Import | None:
    if not dotted:
        return None
    if dotted.split(".")[0] in PROJECT_TREES:
        return Import(0, _known_prefix(idx, dotted) or dotted, True)
    app = _app_root(m)
    if app and (local := _known_prefix(idx, f"{app}.{dotted}")) and local != app:
        return Import(0, local, True)
    return Import(0, dotted, False)


def _from_base(m: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = m.name.split(".") if m.is_package else m.name.split(".")[:-1]
    keep = len(package) - (node.level - 1)
    base = package[: max(keep, 0)]
    return ".".join([*base, *(node.module.split(".") if node.module else [])])


def _imports(idx: Index, m: Module) -> Iterator[Import]:
    if m.tree is None:
        return
    for node in ast.walk(m.tree):
        if isinstance(node, ast.Import):
            wanted = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(m, node)
            relative = node.level > 0
            wanted = []
            for a in node.names:
                sub = f"{base}.{a.name}" if base else a.name
                wanted.append(sub if a.name != "*" and sub in idx.modules else base)
            if relative:
                for dotted in wanted:
                    yield Import(node.lineno, _known_prefix(idx, dotted) or dotted, True)
                continue
        else:
            continue
        for dotted in wanted:
            if found := _resolve(idx, m, dotted):
                yield Import(node.lineno, found.target, found.project)


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one node (or a node on a loop of its own), each sorted."""
    counter, stack, on_stack = [0], [], set()
    low: dict[str, int] = {}
    order: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(v: str) -> None:
        order[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in order:
            visit(v)
    return sorted(found)


def cycle_through(start: str, members: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One shortest loop from `start` back to it inside a component: start, ..., start."""
    prev: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(edges.get(v, ()) & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [start, *reversed(path[:-1]), start] if v != start else [start, start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]
