"""Imports that do not look like imports: dynamic imports, loading a file as a module, `sys.path`
edits. The services rule reads them through these helpers, which know a little of how paths are built
(`Path(__file__).parents[2] / "services"`) so that a path hidden in a variable is still seen.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

DYNAMIC_IMPORTS = {"import_module", "__import__"}
FILE_LOADERS = {"spec_from_file_location", "run_path", "run_module", "SourceFileLoader"}
SYS_PATH_EDITS = {"sys.path.insert", "sys.path.append", "sys.path.extend", "path.insert", "path.append", "path.extend"}


def dotted(node: ast.AST) -> str:
    """`a.b.c` for a chain of attributes on a name, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ""


def assignments(tree: ast.AST) -> dict[str, list[ast.AST]]:
    """Every value assigned to each plain name anywhere in the module."""
    found: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for t in targets:
            if isinstance(t, ast.Name):
                found.setdefault(t.id, []).append(value)
    return found


def mentions(node: ast.AST, word: str, assigned: dict[str, list[ast.AST]], seen: frozenset = frozenset()) -> bool:
    """Whether a string, a name or an attribute in the expression (or in what its names were assigned)
    mentions `word`."""
    word = word.lower()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and word in sub.value.lower():
            return True
        if isinstance(sub, ast.Attribute) and word in sub.attr.lower():
            return True
        if isinstance(sub, ast.Name):
            if word in sub.id.lower():
                return True
            if sub.id not in seen and any(
                mentions(v, word, assigned, seen | {sub.id}) for v in assigned.get(sub.id, ())
            ):
                return True
    return False


def calls(tree: ast.AST, names: set[str]) -> Iterator[ast.Call]:
    """Calls of a function whose last name (or dotted name) is in `names`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in names or name.rsplit(".", 1)[-1] in names:
                yield node


def sys_path_edits(tree: ast.AST) -> Iterator[tuple[int, list[ast.AST]]]:
    """(line, the expressions put on the path) of every `sys.path` insert, append, extend or assignment."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func) in SYS_PATH_EDITS:
            put = node.args[1:] if node.func.attr == "insert" else node.args
            yield node.lineno, _elements(put)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                base = t.value if isinstance(t, ast.Subscript) else t
                if dotted(base) == "sys.path":
                    yield node.lineno, _elements([node.value])


def _elements(exprs: list[ast.expr]) -> list[ast.expr]:
    return [e for x in exprs for e in (x.elts if isinstance(x, ast.List | ast.Tuple) else [x])]


def static_path(node: ast.AST, file: str, assigned: dict[str, list[ast.AST]], depth: int = 0) -> str | None:
    """The path an expression builds from `__file__`, relative to the root (`services/x`), if it can be told."""
    if depth > 20:
        return None

    def again(sub: ast.AST) -> str | None:
        return static_path(sub, file, assigned, depth + 1)

    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return file
        values = assigned.get(node.id, [])
        return again(values[-1]) if len(values) == 1 else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return None
    if isinstance(node, ast.Attribute):
        return _parent(again(node.value), 1) if node.attr == "parent" else None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
        if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
            return _parent(again(node.value.value), node.slice.value + 1)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _join(again(node.left), node.right)
    if isinstance(node, ast.Call):
        return _call_path(node, again)
    return None


def _call_path(node: ast.Call, again: Callable[[ast.AST], str | None]) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if isinstance(node.func, ast.Attribute) and name in {"resolve", "absolute"}:
        return again(node.func.value)
    if not node.args:
        return None
    first = node.args[0]
    if name in {"Path", "PurePath", "str", "fspath", "abspath", "realpath", "normpath"}:
        return again(first)
    if name == "dirname":
        return _parent(again(first), 1)
    if name == "join":
        path = again(first)
        for part in node.args[1:]:
            path = _join(path, part)
        return path
    return None


def _parent(path: str | None, levels: int) -> str | None:
    if path is None:
        return None
    return os.path.normpath(os.path.join(path, *[".."] * levels)).replace(os.sep, "/")


def _join(path: str | None, part: ast.AST) -> str | None:
    if path is None or not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
        return None
    return os.path.normpath(os.path.join(path, part.value)).replace(os.sep, "/")


def inside(path: str, tree: str) -> bool:
    """Whether a root-relative path lies in the tree."""
    parts = PurePosixPath(path).parts
    return bool(parts) and parts[0] == tree


def service_code(tree: ast.AST, shared: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, what) of every dynamic import, file load or `sys.path` edit that reaches services' code
    other than the shared libraries."""
    assigned = assignments(tree)
    found = []
    for call in calls(tree, DYNAMIC_IMPORTS | FILE_LOADERS):
        args = [*call.args, *(k.value for k in call.keywords)]
        to_shared = any(
            isinstance(a, ast.Constant)
            and isinstance(a.value, str)
            and any(a.value == s or a.value.startswith(s + ".") for s in shared)
            for a in args
        )
        if not to_shared and any(mentions(a, "services", assigned) for a in args):
            found.append((call.lineno, f"{dotted(call.func)}(...) loads services' code"))
    for line, exprs in sys_path_edits(tree):
        if any(mentions(e, "services", assigned) for e in exprs):
            found.append((line, "puts a services directory on sys.path"))
    return found


def path_hacks_outside(tree: ast.AST, path: str, home: str) -> list[tuple[int, str]]:
    """(line, what) of every `sys.path` edit that does not provably stay inside the `home` tree."""
    assigned = assignments(tree)
    found = []
    for line, exprs in sys_path_edits(tree):
        paths = [static_path(e, path, assigned) for e in exprs]
        if not paths or any(p is None or not inside(p, home) for p in paths):
            shown = ", ".join("the root" if p == "." else p or "a path it cannot tell" for p in paths)
            found.append((line, f"sys.path reaches outside {home} ({shown})"))
    return found
