"""The registry token the image push needs, minted before `pulumi up` (the deploy workflow runs this).

The images are pushed by the registry service user `RDP_<STACK>_SVC_REGISTRY` with a short-lived
session token (`snow spcs image-registry token`, about an hour), set as the secret config
`registryToken`. That user is created by the same stack, so on a stack's first deploy there is no one to
mint a token for: the first run creates the user (and its IMAGE_PUSHER grant, network policy and what
they need) with a targeted `pulumi up --target … --target-dependencies`, then mints the token; the full
`pulumi up` that follows pushes the images before it creates the services.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.reader import stack_config
from scripts.core.errors import LoadError, StackOutputError

ROOT = Path(__file__).resolve().parents[2]
KEY_VARIABLE = "SNOWFLAKE_REGISTRY_KEY"  # the registry user's private key (PEM), from the job's environment
# what a token needs to exist: the registry user and its role grant (the rest comes with
# --target-dependencies: the IMAGE_PUSHER role, the user's network policy, the database it names)
BOOTSTRAP = ("access-service-user-registry", "access-svc-registry")
Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class Registry:
    stack: str  # the stack's config name (dev, prod)
    pulumi_stack: str  # as the Pulumi CLI names it (org/dev in CI)
    account: str  # <organization>-<account>
    user: str  # RDP_<STACK>_SVC_REGISTRY


def registry_for(stack: str, pulumi_stack: str | None = None) -> Registry:
    cfg = stack_config(stack)
    account = f"{cfg.snowflake.organization}-{cfg.snowflake.account}"
    return Registry(stack, pulumi_stack or stack, account, cfg.naming.sf("SVC", "registry"))


def plan_json(stack: str) -> list[dict[str, Any]]:
    """The stack's offline plan (`python -m infra.plan`, under mocks): its URNs are the deployed ones."""
    cmd = [sys.executable, "-m", "infra.plan", "--stack", stack, "--format", "json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise LoadError(f"the plan of stack {stack} failed: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


def bootstrap_targets(plan: Sequence[dict[str, Any]]) -> list[str]:
    """The URNs a first deploy creates before a token can be minted, from the stack's plan."""
    by_name = {r["name"]: r["urn"] for r in plan}
    missing = [n for n in BOOTSTRAP if n not in by_name]
    if missing:
        raise LoadError(f"the plan declares no {missing}: the registry user's logical names changed")
    return [by_name[n] for n in BOOTSTRAP]


def dependency_closure(plan: Sequence[dict[str, Any]], urns: Sequence[str]) -> set[str]:
    """What `pulumi up --target <urns> --target-dependencies` creates: the targets and all they depend on
    (dependencies, parents and providers)."""
    by_urn = {r["urn"]: r for r in plan}
    seen: set[str] = set()
    todo = list(urns)
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        r = by_urn[urn]
        todo += [*r.get("dependencies", []), *([r["parent"]] if r.get("parent") else [])]
        todo += [p for p in by_urn if r.get("provider") and p.startswith(r["provider"])]
    return seen


def first_deploy(reg: Registry, outputs: Callable[[str], dict[str, Any]]) -> bool:
    """True when the stack has no registry user yet (never deployed, or deployed before it existed)."""
    try:
        out = outputs(reg.pulumi_stack)
    except StackOutputError:
        return True
    return "registry" not in (out.get("serviceUsers") or {})


def mint(reg: Registry, key_pem: str, run: Runner = subprocess.run) -> str:
    """A registry token for the registry user, from its own key (written to a file only it can read, as
    the Snowflake CLI wants a path, and removed at once)."""
    fd, path = tempfile.mkstemp(prefix="rdp-registry-", suffix=".p8")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key_pem)
        cmd = ["snow", "spcs", "image-registry", "token", "--temporary-connection", "--format", "JSON"]
        cmd += ["--account", reg.account, "--user", reg.user, "--authenticator", "SNOWFLAKE_JWT"]
        cmd += ["--private-key-file", path]
        done = run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(path)
    if done.returncode != 0:
        raise LoadError(f"no registry token for {reg.user}: {(done.stderr or done.stdout).strip()[-300:]}")
    try:
        return str(json.loads(done.stdout)["token"])
    except (ValueError, KeyError, TypeError):
        raise LoadError(f"`snow spcs image-registry token` answered without a token for {reg.user}") from None


def prepare(
    reg: Registry,
    key_pem: str,
    plan: Callable[[], Sequence[dict[str, Any]]],
    outputs: Callable[[str], dict[str, Any]],
    run: Runner = subprocess.run,
) -> list[str]:
    """Create the registry user on a first deploy, mint its token and set it as the secret config
    `registryToken` of the stack (read by `pulumi config set` from stdin, never on a command line).
    Returns what was done, one line each."""
    done = []
    if first_deploy(reg, outputs):
        targets = [a for urn in bootstrap_targets(plan()) for a in ("--target", urn)]
        cmd = ["pulumi", "up", "--yes", "--stack", reg.pulumi_stack, *targets]
        step = run([*cmd, "--target-dependencies", "--policy-pack", "infra/policy"], text=True)
        if step.returncode != 0:
            raise LoadError(f"creating the registry user {reg.user} first failed (pulumi up --target …)")
        done.append(f"first deploy: created {reg.user} and its grant (pulumi up --target … --target-dependencies)")
    token = mint(reg, key_pem, run)
    cmd = ["pulumi", "config", "set", "--secret", "registryToken", "--stack", reg.pulumi_stack]
    step = run(cmd, input=token, capture_output=True, text=True)
    if step.returncode != 0:
        raise LoadError(f"pulumi config set registryToken failed: {step.stderr.strip()[-300:]}")
    done.append(f"registryToken set for {reg.pulumi_stack}: a token of {reg.user}, valid about an hour")
    return done
