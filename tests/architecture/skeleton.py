"""A minimal tree that keeps every rule, so a test can plant one fault in it and see the rule fail.

The skeleton is built from SHAPE: when the shape changes, the planted trees follow.
"""

from __future__ import annotations

from pathlib import Path

from tests.architecture.rules import README_HEADING, SHAPE, checklist

PYPROJECT = '[tool.ruff]\nline-length = 120\ntarget-version = "py311"\n'


def write(root: Path, rel: str, text: str) -> Path:
    """Write a file of the tree, creating its directories."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def append(root: Path, rel: str, text: str) -> Path:
    """Add lines at the end of a file of the tree."""
    path = root / rel
    path.write_text(path.read_text() + text)
    return path


def readme(patterns: list[str]) -> str:
    """A README whose checklist for adding a capability lists the given path patterns."""
    block = "\n".join(patterns)
    return f"# platform\n\n## Layout\n\n{README_HEADING}\n\n```text\n{block}\n```\n\nThen run the tests.\n"


def _capability_modules(root: Path, cap: str) -> None:
    write(root, f"infra/{cap}/__init__.py", f'"""The {cap} capability."""\n')
    write(root, f"infra/{cap}/config.py", f'"""{cap} settings."""\n\nSIZE = 1\n')
    write(
        root,
        f"infra/{cap}/catalog.py",
        f'"""{cap} names."""\n\nfrom infra.naming import physical\n\nTABLE = physical("{cap}")\n',
    )
    write(
        root,
        f"infra/{cap}/component.py",
        f'"""{cap} resources."""\n\nimport pulumi\n\nfrom infra.{cap} import catalog, config\n\n\n'
        f"class Component(pulumi.ComponentResource):\n"
        f"    def __init__(self, name: str) -> None:\n"
        f'        super().__init__("retail:{cap}:Component", name)\n'
        f"        self.table = catalog.TABLE * config.SIZE\n",
    )


def _script_modules(root: Path, cap: str) -> None:
    write(root, f"scripts/{cap}/__init__.py", f'"""{cap} steps."""\n')
    write(root, f"scripts/{cap}/__main__.py", f'"""{cap} CLI."""\n\nfrom scripts.{cap} import loads\n\nloads.run()\n')
    write(
        root,
        f"scripts/{cap}/loads.py",
        f'"""{cap} loads."""\n\nfrom infra.{cap} import catalog\nfrom scripts import target\n\n\n'
        f"def run() -> str:\n    return target.TARGET + catalog.TABLE\n",
    )
    write(root, f"scripts/{cap}/rehearsal.py", f'"""{cap} rehearsal."""\n')
    write(root, f"scripts/{cap}/bench.py", f'"""{cap} bench."""\n')


def write_skeleton(root: Path) -> Path:
    """A clean tree under `root`: every capability in its shape, a shared core, stacks, services, a README
    with the checklist and the project's ruff settings."""
    write(root, "pyproject.toml", PYPROJECT)
    write(root, "README.md", readme(checklist()))
    for tree in ("infra", "scripts", "stacks", "services", "tests"):
        write(root, f"{tree}/__init__.py", f'"""{tree}"""\n')
    write(root, "infra/naming.py", '"""Names."""\n\n\ndef physical(name: str) -> str:\n    return name.upper()\n')
    write(root, "infra/providers.py", '"""Providers."""\n\nPROVIDERS = ()\n')
    write(root, "infra/config/__init__.py", '"""Config."""\n\nfrom infra.ingestion.config import SIZE\n')
    write(root, "scripts/target.py", '"""Where the loads go."""\n\nTARGET = "local"\n')
    write(
        root,
        "scripts/local.py",
        '"""make local."""\n\nimport subprocess\n\nsubprocess.run(["python", "-m", "scripts.cdc"])\n',
    )
    for cap in SHAPE["infra"].capabilities:
        _capability_modules(root, cap)
    for cap in SHAPE["scripts"].capabilities:
        _script_modules(root, cap)
    for cap in SHAPE["sql"].capabilities:
        write(root, f"sql/{cap}/{cap}.sql", "SELECT 1;\n")
    for cap in SHAPE["tests"].capabilities:
        write(root, f"tests/{cap}/__init__.py", "")
    components = "".join(f"from infra.{cap} import component as {cap}\n" for cap in SHAPE["infra"].capabilities)
    write(root, "stacks/platform.py", f'"""The platform."""\n\n{components}\nfrom infra import naming\n')
    write(root, "services/features/__init__.py", '"""Shared features."""\n')
    write(root, "services/features/pair.py", '"""Pair features."""\n\nPAIRS = 2\n')
    write(root, "services/api/orchestrator/__init__.py", "")
    write(root, "services/api/orchestrator/Dockerfile", "FROM python:3.11\n")
    write(
        root,
        "services/api/orchestrator/orchestrator/app.py",
        '"""The API."""\n\nfrom services.features.pair import PAIRS\n',
    )
    write(root, "services/dashboard/__init__.py", "")
    write(root, "services/dashboard/app.py", '"""The dashboard."""\n\nimport views\n')
    write(root, "services/dashboard/views.py", '"""Views."""\n')
    return root
