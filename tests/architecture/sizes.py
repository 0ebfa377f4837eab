"""Sizes as `ruff format` leaves the code, so a limit cannot be dodged by hand-packed lines.

The guarded trees are copied beside the project's pyproject.toml into a temporary directory and
formatted once per state of the tree; the rules then measure the copies.
"""

from __future__ import annotations

import ast
import io
import shutil
import subprocess
import sys
import tempfile
import tokenize
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from tests.architecture.graph import fingerprint, source_files


def ruff_executable() -> str:
    """The ruff beside this interpreter (the project's virtualenv), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.is_file():
        return str(beside)
    found = shutil.which("ruff")
    if not found:
        raise RuntimeError("ruff is neither beside sys.executable nor on PATH; `make setup` installs it")
    return found


def formatted_sources(root: Path, trees: Iterable[str]) -> dict[str, str]:
    """Relative path → text after `ruff format` with the project's settings, for the trees' .py files."""
    root = root.resolve()
    trees = tuple(trees)
    state = (fingerprint(root, trees), fingerprint(root, ["pyproject.toml"], ""))
    return _formatted(root, trees, state)


@cache
def _formatted(root: Path, trees: tuple[str, ...], _state: tuple) -> dict[str, str]:
    files = [p.relative_to(root) for p in source_files(root, trees)]
    with tempfile.TemporaryDirectory(prefix="arch-format-") as tmp:
        work = Path(tmp)
        if (root / "pyproject.toml").is_file():
            shutil.copy2(root / "pyproject.toml", work / "pyproject.toml")
        for rel in files:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, work / rel)
        # A file ruff cannot parse stays as written (and exits non-zero); the rest is still formatted.
        subprocess.run(
            [ruff_executable(), "format", "--no-cache", "--quiet", "."],
            cwd=work,
            capture_output=True,
            check=False,
        )
        return {rel.as_posix(): (work / rel).read_text(encoding="utf-8", errors="replace") for rel in files}


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method with its qualified name (`Class.method`, `outer.inner`)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def long_functions(original: str, formatted: str, limit: int) -> list[tuple[int, str, int]]:
    """(line as written, qualified name, formatted length) of each function over `limit` lines."""
    try:
        after = ast.parse(formatted)
    except SyntaxError:
        return []
    try:
        written = {name: node.lineno for name, node in functions(ast.parse(original))}
    except SyntaxError:
        written = {}
    found = []
    for name, node in functions(after):
        length = node.end_lineno - node.lineno + 1
        if length > limit:
            found.append((written.get(name, node.lineno), name, length))
    return found


def comments(text: str) -> list[tuple[int, str]]:
    """The comments of a module (a rule's own string that spells a guard is not one)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.COMMENT]
