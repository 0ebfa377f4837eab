"""SQL lives in files under sql/; resources and the local path load the same text from here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


@cache
def read_sql(relpath: str) -> str:
    path = SQL_DIR / relpath
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: sql/{relpath}")
    return path.read_text(encoding="utf-8")


def render_sql(relpath: str, **params: str) -> str:
    """Fill `{{ name }}` placeholders; an unknown or unused placeholder is an error, not a blank."""
    text = read_sql(relpath)
    wanted = set(_PLACEHOLDER.findall(text))
    missing = wanted - params.keys()
    extra = params.keys() - wanted
    if missing or extra:
        raise KeyError(f"sql/{relpath}: missing placeholders {sorted(missing)}, unexpected {sorted(extra)}")
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def render_template(path: Path, **params: str) -> str:
    """`{{ name }}` placeholders of any template file (service specs); strict like render_sql."""
    text = path.read_text(encoding="utf-8")
    wanted = set(_PLACEHOLDER.findall(text))
    missing, extra = wanted - params.keys(), params.keys() - wanted
    if missing or extra:
        raise KeyError(f"{path.name}: missing placeholders {sorted(missing)}, unexpected {sorted(extra)}")
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def split_statements(sql: str) -> list[str]:
    """Split a script on semicolons at line ends; the files keep one statement per block."""
    parts = re.split(r";\s*(?:\n|$)", sql)
    return [p.strip() for p in parts if p.strip() and not _only_comments(p)]


def _only_comments(chunk: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in chunk.splitlines())
