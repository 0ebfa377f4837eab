"""A stack's life replayed from its plan, as the engine and the clouds would run it: what mocks cannot see.

`python -m infra.plan --stack dev --lifecycle` walks the phases of a stack on an empty account
- **create**: `pulumi up` creates in dependency order; an input naming another resource's object must
  wait for it (rule `undeclared-dependency`), every identity must hold the privilege of what it does,
  what a resource needs at start must exist before it, the network must let the engine and services in;
- **post-deploy**: the capabilities' steps (train, sync) run after `up`, so nothing `up` starts may need
  what only they make (rule `needed-before-made`, reported at create);
- **refresh**: `pulumi refresh` configures providers from state alone, on a clean checkout, without the
  program (rule `provider-needs-program`), and reads every resource back (read privileges);
- **update**: a second `up` with no change runs no operation of its own; CI's `up` refreshes first
  (.github/workflows/deploy.yml, `refresh: true`), so it fails wherever refresh does (no rule reports this phase alone);
- **destroy**: reverse dependency order; protected or guarded resources make the teardown runbook
  (infra/lifecycle_teardown.py `runbook`), which is printed, not counted as a finding.
Every rule works on the JSON records `python -m infra.plan --format json` prints; none imports Pulumi.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from infra import lifecycle_privileges, lifecycle_rules
from infra.config.base import PROJECT
from infra.isolation import object_key, strings
from infra.lifecycle_graph import PHASES, Finding, Graph, Plan, declared_names, named_objects

ROOT = Path(__file__).resolve().parent.parent
# Providers, and resources of another database system (Postgres names are not Snowflake's), name no
# Snowflake object of the plan.
OTHER_NAMESPACES = ("pulumi:providers:", "postgresql:")
MASKED = re.compile(r"\[(secret|unknown)\]")  # what infra/mocks.py records for a secret or an unknown
_PATH = re.compile(r"^(\.{0,2}/)?[\w.-]+(/[\w.-]+)*\.(pem|crt|key|p8|json|ya?ml|txt)$")


def undeclared_dependencies(plan: Plan, graph: Graph | None = None) -> list[Finding]:
    """Rule 1: an input names another resource's object, but nothing makes it wait for that resource."""
    graph = graph or Graph(plan)
    names = declared_names(plan)
    findings = []
    for r in plan:
        if r["type"].startswith(OTHER_NAMESPACES):
            continue
        named = {u for s in strings(r["inputs"]) for u in named_objects(s, names)} - {r["urn"]}
        for urn in sorted(named - graph.waits_for(r["urn"])):
            if r["urn"] in graph.waits_for(urn):  # the other names this one: its own order is the right one
                continue
            other = graph.by_urn[urn]
            why = (
                f"names {object_key(other)[1]} ({other['name']}) without a dependency on it: "
                "it may be created before it exists (and the object dropped while it still uses it)"
            )
            findings.append(Finding("create", r["name"], "undeclared-dependency", why))
    return findings


# ----------------------------------------------------------------------------------- providers
@cache
def tracked_files(root: Path = ROOT) -> frozenset[str]:
    """The files a clean checkout has (`git ls-files`); none outside a git checkout, so every path counts."""
    try:
        out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return frozenset()
    return frozenset(out.stdout.splitlines())


def _echoes(value: str, source: dict) -> bool:
    """Whether `value` is one of the source resource's own inputs (a name the program knows, not an output);
    a masked value (`[secret]`, `[unknown]`) never is."""
    return not MASKED.fullmatch(value) and value in set(strings(source.get("inputs", {})))


# Untracked files a provider reads, and the step that writes them from the stack's outputs before a refresh
# or destroy (tests/test_workflows.py checks every workflow runs it there; README "Teardown" names it).
FILE_WRITERS = {".tls/": ".venv/bin/python -m scripts.serving write-ca --stack {stack}"}  # postgresRootCa


def written_files(plan: Plan) -> dict[str, str]:
    """Provider name → the command (a FILE_WRITERS template) that writes the untracked file it reads."""
    return {
        r["name"]: writer
        for r in plan
        if r["type"].startswith("pulumi:providers:")
        for value in r["inputs"].values()
        if isinstance(value, str) and _PATH.match(value)
        for prefix, writer in FILE_WRITERS.items()
        if value.lstrip("./").startswith(prefix.lstrip("./"))
    }


def provider_needs_program(plan: Plan, tracked: Iterable[str] | None = None) -> list[Finding]:
    """Rule 2: at refresh and destroy the engine configures each provider from state, on a clean checkout,
    without running the program. Its inputs are in state, outputs of other resources included (stored as
    they were at the last `up`), so those are there; a local file the program writes is not, unless a
    declared step writes it from the stack's outputs first (FILE_WRITERS)."""
    tracked = set(tracked_files() if tracked is None else tracked)
    findings = []
    for r in (r for r in plan if r["type"].startswith("pulumi:providers:")):
        for key, value in sorted(r["inputs"].items()):
            if not (isinstance(value, str) and _PATH.match(value)) or value.lstrip("./") in tracked:
                continue
            if any(value.lstrip("./").startswith(prefix.lstrip("./")) for prefix in FILE_WRITERS):
                continue
            why = (
                f"input {key} is the file {value}, which no clean checkout has (not tracked in git, and no "
                "declared step writes it before refresh and destroy)"
            )
            findings.append(Finding("refresh", r["name"], "provider-needs-program", why))
    return findings


def network_inputs(values: dict) -> tuple[list[str], list[str] | None]:
    """From a stack file's raw values (infra.config.reader.read_stack_file): CI's runner ranges and the
    container services' egress ranges (`postgres.spcsEgressCidrs`; None where the stack sets none)."""
    ci = json.loads(values.get(f"{PROJECT}:ci") or "{}")
    postgres = json.loads(values.get(f"{PROJECT}:postgres") or "{}")
    return ci.get("runnerCidrs", []), postgres.get("spcsEgressCidrs")


def check(
    stack: str,
    plan: Plan,
    account: Plan | None = None,
    runner_cidrs: Iterable[str] = (),
    spcs_egress: Iterable[str] | None = None,
    tracked: Iterable[str] | None = None,
) -> list[Finding]:
    """Every finding of every rule on one stack's plan (the account stack's plan supplies its admin role)."""
    graph = Graph(plan)
    findings = undeclared_dependencies(plan, graph) + provider_needs_program(plan, tracked)
    findings += lifecycle_privileges.snowflake_privileges(stack, plan, account or [])
    findings += lifecycle_privileges.aws_privileges(stack, plan)
    findings += lifecycle_rules.runtime_artifacts(plan, graph)
    findings += lifecycle_rules.network_paths(plan, runner_cidrs, spcs_egress)
    return sorted(set(findings), key=lambda f: (PHASES.index(f.phase), f.resource, f.rule, f.reason))


def render(stack: str, findings: Iterable[Finding]) -> str:
    return "".join(f.line(stack) + "\n" for f in findings)
