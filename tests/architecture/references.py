"""Paths that code, SQL, templates, workflows and the README name exist: a move or rename leaves no
stale pointer for a reader to follow."""

from __future__ import annotations

import re
from pathlib import Path

# A repository path: a top-level tree, then at least one segment. Patterns (`<cap>`, `*`, `{a,b}`) are
# shapes, not paths, and are not checked.
PATH = re.compile(r"(?<![\w./-])(?:infra|scripts|sql|services|stacks|tests)/[\w./-]*\w")
PATTERN_MARKS = ("<", "*", "{")
SCANNED_TREES = ("infra", "stacks", "scripts", "services", "sql", ".github")
SCANNED_FILES = ("README.md", "Makefile", "__main__.py")
# Made by a run, not kept in the repository (git-ignored).
RUNTIME_PATHS = ("tests/artifacts",)
TEXT_SUFFIXES = {".py", ".sql", ".md", ".yaml", ".yml", ".tmpl", ".toml", ".sh", ".txt", ".html", ""}


def _scanned(root: Path) -> list[Path]:
    files = [root / f for f in SCANNED_FILES if (root / f).is_file()]
    for tree in SCANNED_TREES:
        files += [
            p
            for p in sorted((root / tree).rglob("*"))
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts
        ]
    return files


def stale_paths(root: Path) -> list[str]:
    """Every repository path named in the scanned files exists (as a file or a directory)."""
    found = []
    for path in _scanned(root):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(lines, start=1):
            for match in PATH.finditer(line):
                named = match.group(0).rstrip(".")
                token = line[match.start() :].split()[0]  # the whole word: `plan-<stack>.json` is a pattern
                if any(m in token for m in PATTERN_MARKS) or named.startswith(RUNTIME_PATHS):
                    continue
                if not (root / named).exists():
                    found.append(f"{path.relative_to(root)}:{n}: names {named}, which does not exist")
    return found
