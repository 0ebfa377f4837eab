"""What computed an answer: a digest of the code that turns the serving tables and a model into one
(this package and the shared features). A precomputed answer records it beside the model's digest, so
an image whose code answers differently (another field, other candidates, other features) never serves
the rows an older one computed: until the next sync it ranks per request."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import services.features


@cache
def code_digest() -> str:
    """sha256 (first 16 hex digits) over the names and bytes of the package's and the shared features'
    modules, in name order: the same in the API's image, the refresh job's and a checkout."""
    digest = hashlib.sha256()
    for directory in (Path(__file__).parent, Path(services.features.__file__).parent):
        for module in sorted(directory.glob("*.py")):
            digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def answered_by(model_sha256: str) -> str:
    """What customer_rankings.model holds: the model file's digest and the code's."""
    return f"{model_sha256}:{code_digest()}"
