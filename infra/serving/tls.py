"""The Postgres root CA as a file: libpq-based clients (the pulumi-postgresql provider, psql, psycopg)
verify the server with `sslmode=verify-full` against a certificate *file*."""

from __future__ import annotations

from pathlib import Path

import pulumi

# Relative to the project directory, where Pulumi runs the program and its providers; git-ignored.
TLS_DIR = Path(".tls")


def root_certificate_file(name: str, pem: pulumi.Input[str]) -> pulumi.Output[str]:
    """Write the certificate to `.tls/<name>.pem` once it is known and give the path (a stable input)."""

    def write(text: str) -> str:
        path = TLS_DIR / f"{name}.pem"
        if text:
            TLS_DIR.mkdir(exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        return str(path)

    return pulumi.Output.from_input(pem).apply(write)
