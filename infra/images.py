"""What a container image is built from, its digest and its name in SPCS, with no Pulumi import: shared by
the capabilities that run containers (the API's services, the serving refresh's job; infra/registry.py
pushes them).

The image's identity in the plan is a digest of every file its Dockerfile copies from the build context
(the `COPY` sources) and of the Dockerfile itself. It is part of the image's tag, so a change to the code
an image carries changes the image's inputs: the preview diff (and the offline `python -m infra.plan
--diff`) shows the image and what it redeploys, and `pulumi up` builds and pushes it.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED_PARTS = {"__pycache__", ".pytest_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
DIGEST_LENGTH = 12


def copy_instructions(text: str) -> list[tuple[list[str], str]]:
    """(sources, destination) of each of a Dockerfile's COPY/ADD instructions that reads the build
    context (not `--from` stages), in order."""
    out: list[tuple[list[str], str]] = []
    logical = text.replace("\\\n", " ")
    for line in logical.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = words[1:]
        if any(a.startswith("--from") for a in args):
            continue
        *sources, dest = [a for a in args if not a.startswith("--")]
        out.append((sources, dest))
    return out


def copy_sources(text: str) -> list[str]:
    """The context paths a Dockerfile's COPY/ADD instructions read (not `--from` stages), in order."""
    return [src for sources, _ in copy_instructions(text) for src in sources]


def _files(base: Path) -> Iterator[Path]:
    if base.is_file():
        yield base
        return
    if not base.is_dir():
        raise FileNotFoundError(f"the Dockerfile copies {base}, which does not exist")
    for p in sorted(base.rglob("*")):
        if p.is_file() and not IGNORED_PARTS & set(p.parts) and p.suffix not in IGNORED_SUFFIXES:
            yield p


def context_files(dockerfile: str, context: str, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(path in the build context, file) of everything the image copies, the Dockerfile first
    (`dockerfile` and `context` relative to `root`)."""
    df, base = root / dockerfile, root / context
    found = [(f"Dockerfile:{df.relative_to(root)}", df)]
    for source in copy_sources(df.read_text()):
        for f in _files(base / source.rstrip("/")):
            found.append((f.relative_to(base).as_posix(), f))
    return found


def context_digest(dockerfile: str, context: str, root: Path = ROOT) -> str:
    """sha256 over the paths and bytes of the files the image copies: a rename or an edit changes it."""
    h = hashlib.sha256()
    for path, f in context_files(dockerfile, context, root):
        h.update(path.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:DIGEST_LENGTH]


@dataclass(kw_only=True)
class ImageBuild:
    """One image: its name in the repository, its version, and where it is built from (relative to the
    project directory, where Pulumi runs, so plans do not embed a checkout path)."""

    name: str
    version: str
    dockerfile: str
    context: str

    @property
    def tag(self) -> str:
        """`<version>-<context digest>`: the configured version, then what it was built from."""
        return f"{self.version}-{context_digest(self.dockerfile, self.context)}"


def spcs_image_path(repo_digest: str) -> str:
    """`<registry host>/db/schema/repo/name@sha256:…` → `/db/schema/repo/name@sha256:…` (SPCS form)."""
    _, _, path = repo_digest.partition("/")
    return "/" + path
