"""`python -m scripts.serving write-ca --stack S`: put the Postgres root CA where the postgresql provider
looks for it, before a `pulumi refresh`, `pulumi up --refresh` or `pulumi destroy` on a clean checkout.

The provider's `sslrootcert` is a file path (`.tls/rdp_<stack>_root_ca.pem`, git-ignored): the program
writes the file while it runs, but refresh and destroy configure the provider from the state without
running the program. The stack output `postgresRootCa` carries the path and the certificate; a stack
deployed before that output existed still has both in its state (the provider's `sslrootcert` input and
the admin credential's `ca_certificate` output), read from `pulumi stack export`. A stack with no
postgresql provider (new, or already destroyed) needs no file.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

from scripts.core.errors import LoadError

ROOT = Path(__file__).resolve().parents[2]  # the project directory: Pulumi runs the providers there
OUTPUT = "postgresRootCa"
PROVIDER_TYPE = "pulumi:providers:postgresql"
CREDENTIAL = "postgres-admin-credential"


def _pulumi_json(*args: str) -> Any:
    try:
        out = subprocess.run(["pulumi", *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        raise LoadError(f"`pulumi {' '.join(args)}` failed: {detail.strip()[-300:]}") from None
    return json.loads(out)


def from_outputs(outputs: dict[str, Any]) -> tuple[str, str] | None:
    """(path, pem) from the stack outputs, None when the stack has no such output."""
    value = outputs.get(OUTPUT)
    if not value:
        return None
    if not isinstance(value, dict) or not {"path", "pem"} <= set(value):
        raise LoadError(f"stack output {OUTPUT} must be {{path, pem}}, got {str(value)[:80]!r}")
    return str(value["path"]), str(value["pem"])


def from_state(state: dict[str, Any]) -> tuple[str, str] | None:
    """(path, pem) from `pulumi stack export`: the postgresql provider's `sslrootcert` and the admin
    credential's `ca_certificate`. None when the state holds no postgresql provider."""
    resources = state.get("deployment", {}).get("resources") or []
    providers = [r for r in resources if r.get("type") == PROVIDER_TYPE]
    if not providers:
        return None
    paths = {str((r.get("inputs") or {}).get("sslrootcert") or "") for r in providers} - {""}
    certs = [
        (r.get("outputs") or {}).get("ca_certificate")
        for r in resources
        if str(r.get("urn", "")).endswith(f"::{CREDENTIAL}")
    ]
    pems = [c for c in certs if isinstance(c, str) and c]
    if len(paths) != 1 or len(pems) != 1:
        raise LoadError(
            f"the state has {len(paths)} sslrootcert path(s) and {len(pems)} readable CA certificate(s); "
            f"expected one of each (run `pulumi up` once so the stack exports {OUTPUT})"
        )
    return paths.pop(), pems[0]


def checked(path: str, pem: str) -> Path:
    """The file to write, inside the project's `.tls/`, for a PEM certificate; anything else is refused."""
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or rel.parent != PurePosixPath(".tls") or rel.suffix != ".pem":
        raise LoadError(f"refusing to write the CA to {path!r}: expected .tls/<name>.pem")
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise LoadError(f"the CA for {path} is not a PEM certificate")
    return ROOT / rel


def write_ca(stack: str, outputs_file: Path | None = None, state_file: Path | None = None) -> Path | None:
    """Write the CA the stack's postgresql provider reads; its path, or None when none is needed."""
    if outputs_file is not None:
        outputs = json.loads(outputs_file.read_text())
    elif state_file is None:
        outputs = _pulumi_json("stack", "output", "--json", "--stack", stack)
    else:
        outputs = {}
    found = from_outputs(outputs)
    if found is None and (state_file is not None or outputs_file is None):
        state = json.loads(state_file.read_text()) if state_file else _pulumi_json("stack", "export", "--stack", stack)
        found = from_state(state)
    if found is None:
        return None
    target = checked(*found)
    target.parent.mkdir(exist_ok=True)
    if not target.exists() or target.read_text() != found[1]:
        target.write_text(found[1])
    return target
