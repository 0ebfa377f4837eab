"""Upload the dashboard's files to its stage: what `pulumi up` runs when the app changes, and what an
operator runs by hand to re-publish (`python -m scripts.dashboard publish --stack prod`).

Each file is PUT uncompressed and overwritten; files the stage holds under the app's directory that
are no longer part of the app are removed afterwards, so a deleted query does not linger.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.dashboard import bundle
from scripts.core.errors import LoadError


class PublishError(LoadError):
    """Publishing failed; the message names the file or setting and what to do."""


@dataclass
class Published:
    uploaded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def publish(cur: Any, stage: str, directory: str = bundle.DIRECTORY) -> Published:
    """PUT every bundle file under @stage/directory, then REMOVE what the stage has there beyond them."""
    if not stage or "'" in stage or not directory.replace("-", "").replace("_", "").isalnum():
        raise PublishError(f"invalid stage {stage!r} or directory {directory!r}")
    done = Published()
    with tempfile.TemporaryDirectory() as tmp:
        for f in bundle.files():
            target = "/".join(p for p in (directory, f.folder) if p)
            cur.execute(
                f"PUT 'file://{_named(f, Path(tmp))}' '@{stage}/{target}' AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
            )
            done.uploaded.append(f.path)
    cur.execute(f"LIST '@{stage}/{directory}/'")
    wanted = set(done.uploaded)
    for row in cur.fetchall():
        # LIST names a file <stage name>/<directory>/<path>
        path = str(row[0]).split("/", 1)[1] if "/" in str(row[0]) else str(row[0])
        rel = path[len(directory) + 1 :] if path.startswith(directory + "/") else None
        if rel is not None and rel not in wanted:
            # REMOVE takes a path prefix: the anchored pattern removes this file and no longer name
            cur.execute(f"REMOVE '@{stage}/{directory}/{rel}' PATTERN = '.*/{re.escape(rel)}'")
            done.removed.append(rel)
    return done


def _named(f: bundle.AppFile, tmp: Path) -> Path:
    """The file to PUT: PUT keeps a file's own name, so one that has another on the stage (the monitor's
    sql/<cap>/monitor.sql as sql/monitor/<cap>.sql) is copied under that name first."""
    name = f.path.rpartition("/")[2]
    if f.source.name == name:
        return f.source
    copy = tmp / f.folder / name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(f.source, copy)
    return copy


def deployer_connection(env: dict[str, str] | None = None, role: str | None = None) -> Any:
    """The deploy user's key-pair session, from the variables the publish step is given (or the
    SNOWFLAKE_* the providers read in CI): organization, account, user, role and the private key
    (SNOWFLAKE_PRIVATE_KEY as PEM text, or SNOWFLAKE_PRIVATE_KEY_PATH)."""
    import snowflake.connector
    from cryptography.hazmat.primitives import serialization

    env = dict(os.environ if env is None else env)
    need = ["SNOWFLAKE_ORGANIZATION_NAME", "SNOWFLAKE_ACCOUNT_NAME", "SNOWFLAKE_USER"]
    missing = [k for k in need if not env.get(k)]
    pem = env.get("SNOWFLAKE_PRIVATE_KEY")
    if not pem and env.get("SNOWFLAKE_PRIVATE_KEY_PATH"):
        with open(env["SNOWFLAKE_PRIVATE_KEY_PATH"], encoding="utf-8") as fh:
            pem = fh.read()
    if not pem:
        missing.append("SNOWFLAKE_PRIVATE_KEY (or SNOWFLAKE_PRIVATE_KEY_PATH)")
    if missing:
        raise PublishError(f"cannot connect to publish the dashboard: set {', '.join(missing)}")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as e:
        raise PublishError(f"SNOWFLAKE_PRIVATE_KEY is not an unencrypted PEM private key: {e}") from None
    return snowflake.connector.connect(
        account=f"{env['SNOWFLAKE_ORGANIZATION_NAME']}-{env['SNOWFLAKE_ACCOUNT_NAME']}",
        user=env["SNOWFLAKE_USER"],
        role=role or env.get("SNOWFLAKE_ROLE") or None,  # else the deploy user's default: its admin role
        authenticator="SNOWFLAKE_JWT",
        private_key=key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
