"""SQL lives in files under sql/; resources and the local path load the same text from here."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


@cache
def read_sql(relpath: str) -> str:
    path = SQL_DIR / relpath
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: sql/{relpath}")
    return path.read_text(encoding="utf-8")


def _fill(text: str, label: str, params: dict[str, str]) -> str:
    """Fill `{{ name }}` placeholders; an unknown or unused placeholder is an error, not a blank."""
    wanted = set(_PLACEHOLDER.findall(text))
    missing, extra = wanted - params.keys(), params.keys() - wanted
    if missing or extra:
        raise KeyError(f"{label}: missing placeholders {sorted(missing)}, unexpected {sorted(extra)}")
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def render_sql(relpath: str, **params: str) -> str:
    return _fill(read_sql(relpath), f"sql/{relpath}", params)


@cache
def _macros(relpath: str) -> Any:
    """A file of Jinja macros (a dbt project's macros/), as a template module whose macros can be called."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return env.from_string(read_sql(relpath), globals={}).module


def render_macro(relpath: str, macro: str, *args: Any) -> str:
    """Call one macro of a Jinja macros file (SQL shared with dbt, whose models call the same macros);
    an unknown macro is an error naming the file."""
    module = _macros(relpath)
    if not hasattr(module, macro):
        raise KeyError(f"sql/{relpath}: no macro {macro!r}")
    return str(getattr(module, macro)(*args)).strip()


def render_template(path: Path, **params: str) -> str:
    """The same strict filling for template files outside sql/ (service specs)."""
    return _fill(path.read_text(encoding="utf-8"), path.name, params)


def load_module(path: Path) -> ModuleType:
    """Import a handler file from sql/ as a module (once), so local code runs what Snowflake runs. Its
    module name is prefixed (`sql_generate`), so a handler never shadows an installed module."""
    name = f"sql_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def split_statements(sql: str) -> list[str]:
    """Split a script on semicolons at line ends; the files keep one statement per block."""
    parts = re.split(r";\s*(?:\n|$)", sql)
    return [p.strip() for p in parts if p.strip() and not _only_comments(p)]


def _only_comments(chunk: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in chunk.splitlines())


_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)


def named_queries(relpath: str, **params: str) -> dict[str, str]:
    """A file of several statements, each after a `-- name: <key>` line, filled like render_sql.

    Every placeholder must be used by some query and every query's placeholders given; the local
    emulations keep their statements this way, one file per concern."""
    text = render_sql(relpath, **params)
    parts = _NAME.split(text)
    if len(parts) < 3 or (parts[0].strip() and not _only_comments(parts[0])):
        raise ValueError(f"sql/{relpath}: every statement must follow a '-- name: <key>' line")
    queries: dict[str, str] = {}
    for key, body in zip(parts[1::2], parts[2::2], strict=True):
        if key in queries:
            raise ValueError(f"sql/{relpath}: query {key!r} is defined twice")
        queries[key] = body.strip().rstrip(";").strip()
    return queries
