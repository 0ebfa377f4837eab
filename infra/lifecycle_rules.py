"""The lifecycle rules that read what runs: service specs, images, network rules.

Why: a service that loads a file at start-up, an image pushed with a token of a user the same `up`
creates, a Postgres instance whose ingress leaves out CI or the containers, each passes every mock and
fails on the first real `up`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

import yaml

from infra.isolation import object_key, strings
from infra.lifecycle_graph import Finding, Graph, Plan, declared_names, named_objects

# What a service's code needs at start-up, named by the spec's environment variable giving its path, and
# the variable that says the service waits for it instead (services/api/ranker and orchestrator start
# without the ranking model and load it when it appears, every RANKER_MODEL_CHECK_SECONDS).
REQUIRED_AT_START = {"RANKER_MODEL_PATH": ("the model the service loads at start-up", "RANKER_MODEL_CHECK_SECONDS")}
# Resource types that can put a file on a stage during `up` (a local command, SQL run by the provider).
FILE_WRITERS = ("command:local:Command", "snowflake:index/execute:Execute")
POSTGRES_PORT = 5432
# A Postgres host as the mocks give it, for a plan that records no provider connecting to the instance.
_PG_HOST = re.compile(r"[\w-]+\.postgres\.[\w-]+\.snowflake\.app")


def _unquoted(name: str) -> str:
    return str(name).replace('"', "").lstrip("@").upper()


def _containers(service: dict) -> tuple[list[dict], dict[str, str]]:
    """A service's containers and its volumes (name → source) from its specification."""
    text = (service["inputs"].get("fromSpecification") or {}).get("text") or ""
    try:
        spec = (yaml.safe_load(text) or {}).get("spec") or {}
    except yaml.YAMLError:
        return [], {}
    volumes = {v.get("name"): _source(v) for v in spec.get("volumes") or []}
    return spec.get("containers") or [], volumes


def _source(volume: dict) -> str:
    """A volume's stage: `source: "@STAGE"` (stage mount v1) or `source: stage` + `stageConfig.name` (v2)."""
    if volume.get("source") == "stage":
        return str((volume.get("stageConfig") or {}).get("name", ""))
    return str(volume.get("source", ""))


def runtime_artifacts(plan: Plan, graph: Graph | None = None) -> list[Finding]:
    """Rule 4: what a resource needs when it starts is made before it, by a resource of the plan."""
    graph = graph or Graph(plan)
    names = declared_names(plan)
    findings = []
    for svc in (r for r in plan if r["type"].endswith("/service:Service")):
        containers, volumes = _containers(svc)
        for c in containers:
            mounts = {m.get("mountPath", ""): volumes.get(m.get("name"), "") for m in c.get("volumeMounts") or []}
            for var, (what, waits) in REQUIRED_AT_START.items():
                path = str((c.get("env") or {}).get(var, ""))
                if (c.get("env") or {}).get(waits):
                    continue  # it starts without the file and loads it when it appears
                source = next((s for m, s in mounts.items() if m and path.startswith(m.rstrip("/") + "/")), None)
                if not path or source is None:
                    continue
                stage = names.get(_unquoted(source))
                made = [
                    w
                    for w in plan
                    if w["type"] in FILE_WRITERS
                    and stage in {u for s in strings(w["inputs"]) for u in named_objects(s, names)}
                    and any(path.rsplit("/", 1)[-1] in s for s in strings(w["inputs"]))
                    and w["urn"] in graph.waits_for(svc["urn"])
                ]
                if not made:
                    why = (
                        f"{what}, {path} ({var}), is on stage {_unquoted(source)}, which no resource fills before "
                        "the service starts (a post-deploy step writes it after `up`)"
                    )
                    findings.append(Finding("create", svc["name"], "needed-before-made", why))
    return findings + _registry_tokens(plan)


def _registry_tokens(plan: Plan) -> list[Finding]:
    """An image pushed as a user the same `up` creates: its token cannot be minted before the user exists."""
    users = {k[1]: r["name"] for r in plan if (k := object_key(r)) and k[0] == "USER"}
    findings = []
    for image in (r for r in plan if r["type"].startswith("docker:") and r["type"].endswith("image:Image")):
        user = _unquoted((image["inputs"].get("registry") or {}).get("username", ""))
        if user in users:
            why = (
                f"pushes with a registry token of {user}, which this same `up` creates ({users[user]}): "
                "on an empty account no token can be minted before it (registryToken)"
            )
            findings.append(Finding("create", image["name"], "needed-before-made", why))
    return findings


# -------------------------------------------------------------------------------------- network
def _by_key(plan: Plan) -> dict[str, dict]:
    return {k[1]: r for r in plan if (k := object_key(r))}


def _rule_values(objects: dict[str, dict], names: Iterable[str], mode: str) -> list[str]:
    rules = [objects.get(_unquoted(n)) for n in names]
    return [str(v) for r in rules if r and r["inputs"].get("mode") == mode for v in r["inputs"].get("valueLists", [])]


def _within(cidr: str, allowed: Iterable[str]) -> bool:
    """Whether the range `cidr` lies inside one of the `allowed` ranges (a value that is no range never holds it)."""
    net = ipaddress.ip_network(cidr, strict=False)
    for a in allowed:
        try:
            other = ipaddress.ip_network(a, strict=False)
        except ValueError:
            continue
        if other.version == net.version and net.subnet_of(other):
            return True
    return False


def network_paths(
    plan: Plan, runner_cidrs: Iterable[str] = (), spcs_egress: Iterable[str] | None = None
) -> list[Finding]:
    """Rule 5: CI reaches the Postgres instance (the postgresql provider connects from CI), the containers
    reach it (egress rule to its host, its ingress admits their egress) and may use the secrets they mount."""
    objects = _by_key(plan)
    findings = []
    for pg in (r for r in plan if r["type"].endswith("/postgresInstance:PostgresInstance")):
        policy = objects.get(_unquoted(pg["inputs"].get("networkPolicy", "")))
        ingress = _rule_values(
            objects, (policy or {}).get("inputs", {}).get("allowedNetworkRuleLists", []), "POSTGRES_INGRESS"
        )
        for cidr in runner_cidrs:
            if not _within(cidr, ingress):
                why = (
                    f"CI's runners ({cidr}, ci.runnerCidrs) are not in its ingress {ingress}: "
                    "the postgresql provider connects from CI"
                )
                findings.append(Finding("create", pg["name"], "network-path", why))
        if spcs_egress is None:
            why = (
                f"the container services' egress range is not in the plan: confirm their egress is within its "
                f"ingress {ingress}, or the API cannot connect"
            )
            findings.append(Finding("create", pg["name"], "network-path", why))
        else:
            for cidr in spcs_egress:
                if not _within(cidr, ingress):
                    why = f"the container services' egress ({cidr}) is not in its ingress {ingress}"
                    findings.append(Finding("create", pg["name"], "network-path", why))
    for svc in (r for r in plan if r["type"].endswith("/service:Service")):
        findings += _service_paths(svc, objects, _instance_hosts(plan))
    return findings


def _instance_hosts(plan: Plan) -> set[str]:
    """The Postgres instances' hosts: a `host` input whose value came from an instance (propertyDependencies)."""
    instances = {r["urn"] for r in plan if r["type"].endswith("/postgresInstance:PostgresInstance")}
    return {
        str(r["inputs"]["host"])
        for r in plan
        if set((r.get("propertyDependencies") or {}).get("host", ())) & instances and "host" in r["inputs"]
    }


def _service_paths(svc: dict, objects: dict[str, dict], hosts: set[str]) -> list[Finding]:
    """A service's Postgres hosts need an egress rule of its integrations; its mounted secrets their allowance."""
    integrations = [objects.get(_unquoted(n)) for n in svc["inputs"].get("externalAccessIntegrations") or []]
    integrations = [i["inputs"] for i in integrations if i]
    egress = _rule_values(objects, [n for i in integrations for n in i.get("allowedNetworkRules", [])], "EGRESS")
    allowed = {
        _unquoted(s) for i in integrations for s in (i.get("allowedAuthenticationSecrets") or {}).get("secrets", [])
    }
    text = (svc["inputs"].get("fromSpecification") or {}).get("text") or ""
    findings = []
    for host in sorted({h for h in hosts if h in text} or set(_PG_HOST.findall(text))):
        if f"{host}:{POSTGRES_PORT}" not in egress:
            why = f"connects to {host}:{POSTGRES_PORT}, which no egress rule of its external access integrations allows"
            findings.append(Finding("create", svc["name"], "network-path", why))
    containers, _ = _containers(svc)
    for c in containers:
        for secret in c.get("secrets") or []:
            ref = secret.get("snowflakeSecret")
            name = _unquoted(ref.get("objectName", "") if isinstance(ref, dict) else ref or "")
            if name and name not in allowed:
                why = f"mounts secret {name}, which is not among its external access integrations' allowed secrets"
                findings.append(Finding("create", svc["name"], "network-path", why))
    return findings
