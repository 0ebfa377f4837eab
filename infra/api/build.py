"""What each API image is built from, and its digest, with no Pulumi import.

The image's identity in the plan is a digest of every file its Dockerfile copies from the build context
(the `COPY` sources: the service's code, the shared services/features, the pinned requirements) and of
the Dockerfile itself. It is part of the image's tag, so a change to service code alone changes the
image's inputs: the preview diff (and the offline `python -m infra.plan --diff`) shows the image and
the services it redeploys, and `pulumi up` builds and pushes it.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterator
from pathlib import Path

from infra.api.catalog import BUILD_CONTEXTS

ROOT = Path(__file__).resolve().parents[2]
IGNORED_PARTS = {"__pycache__", ".pytest_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}
DIGEST_LENGTH = 12


def dockerfile(service: str, root: Path = ROOT) -> Path:
    return root / "services" / "api" / service / "Dockerfile"


def copy_sources(text: str) -> list[str]:
    """The context paths a Dockerfile's COPY/ADD instructions read (not `--from` stages), in order."""
    sources: list[str] = []
    logical = text.replace("\\\n", " ")
    for line in logical.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = words[1:]
        if any(a.startswith("--from") for a in args):
            continue
        paths = [a for a in args if not a.startswith("--")]
        sources += paths[:-1]  # the last one is the destination
    return sources


def _files(base: Path) -> Iterator[Path]:
    if base.is_file():
        yield base
        return
    if not base.is_dir():
        raise FileNotFoundError(f"the Dockerfile copies {base}, which does not exist")
    for p in sorted(base.rglob("*")):
        if p.is_file() and not IGNORED_PARTS & set(p.parts) and p.suffix not in IGNORED_SUFFIXES:
            yield p


def context_files(service: str, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(path in the build context, file) of everything the image copies, the Dockerfile first."""
    context = root / BUILD_CONTEXTS[service]
    df = dockerfile(service, root)
    found = [(f"Dockerfile:{df.relative_to(root)}", df)]
    for source in copy_sources(df.read_text()):
        for f in _files(context / source.rstrip("/")):
            found.append((f.relative_to(context).as_posix(), f))
    return found


def context_digest(service: str, root: Path = ROOT) -> str:
    """sha256 over the paths and bytes of the files the image copies: a rename or an edit changes it."""
    h = hashlib.sha256()
    for path, f in context_files(service, root):
        h.update(path.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:DIGEST_LENGTH]


def image_tag(version: str, service: str, root: Path = ROOT) -> str:
    """`<api.imageTag>-<context digest>`: the configured version, then what it was built from."""
    return f"{version}-{context_digest(service, root)}"
