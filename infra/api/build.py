"""What each API image is built from, and its digest: the API's names for the shared image machinery
(infra/images.py), by service."""

from __future__ import annotations

from pathlib import Path

from infra import images
from infra.api.catalog import BUILD_CONTEXTS

ROOT = images.ROOT
copy_sources = images.copy_sources


def dockerfile(service: str, root: Path = ROOT) -> Path:
    return root / "services" / "api" / service / "Dockerfile"


def context_files(service: str, root: Path = ROOT) -> list[tuple[str, Path]]:
    """(path in the build context, file) of everything the service's image copies, the Dockerfile first."""
    return images.context_files(f"services/api/{service}/Dockerfile", BUILD_CONTEXTS[service], root)


def context_digest(service: str, root: Path = ROOT) -> str:
    """sha256 over the paths and bytes of the files the service's image copies."""
    return images.context_digest(f"services/api/{service}/Dockerfile", BUILD_CONTEXTS[service], root)


def image_tag(version: str, service: str, root: Path = ROOT) -> str:
    """`<api.imageTag>-<context digest>`: the configured version, then what it was built from."""
    return f"{version}-{context_digest(service, root)}"
