"""The credential-free preview: run the real program under Pulumi's mocks and show what it declares.

python -m infra.plan --stack dev                 # readable tree
python -m infra.plan --stack prod --format json  # one JSON object per resource
python -m infra.plan --stack dev --write         # refresh tests/snapshots/plan-dev.{json,dot,svg}
python -m infra.plan --stack prod --cost         # monthly estimate per capability (infra/cost.py); --format json
python -m infra.plan --diff origin/main          # what this working tree changes, per stack (dev, prod)
python -m infra.plan --diff HEAD~1 --stack prod --format markdown   # text (default), markdown or json
python -m infra.plan --stack dev --handover v1.4.0   # moving a stack deployed at v1.4.0 to its own admin role
python -m infra.plan --stack prod --lifecycle    # create, refresh, destroy replayed: what a real engine refuses
python -m infra.plan --stack pr-7 --leftovers    # the names a review stack's leftover check looks for

--diff plans the working tree and <git-ref> (exported with `git archive` into a temporary directory
and planned there by the same interpreter), then prints per resource create / update / replace /
delete (infra/plandiff.py) with each change's monthly cost change (infra/cost_report.py) and a summary
line per stack. A bad ref or a failing plan is one error
line and exit status 1.
"""

from __future__ import annotations

import io
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from infra import cost, cost_report, handover, leftovers, lifecycle, lifecycle_deploy, lifecycle_teardown, plandiff
from infra.account.catalog import admin_role, monitor_name
from infra.config.base import PROJECT
from infra.config.reader import ConfigError, read_stack_file, stack_config
from infra.config.stack import StackConfig
from infra.isolation import ACCOUNT_STACK
from infra.mocks import PlanMocks, RecordingMonitor
from infra.naming import Naming

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots"
KEY_INPUTS = (
    "name",
    "bucket",
    "database",
    "schema",
    "warehouseSize",
    "autoSuspend",
    "privileges",
    "roleName",
    "parentRoleName",
    "userName",
    "accountRoleName",
    "creditQuota",
    "autoIngest",
)
DIFF_STACKS = ("dev", "prod")
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(Error|Exception): ")
DIFF_FORMATS = {"text": plandiff.render_text, "markdown": plandiff.render_markdown, "json": plandiff.render_json}

app = typer.Typer(add_completion=False, help=__doc__)


def run_plan(stack: str, config: tuple[dict[str, str], list[str]] | None = None) -> list[dict[str, Any]]:
    """Run stacks.platform under mocks with the stack's config (or `config`: values and secret keys);
    return the recorded resources."""
    import pulumi

    try:
        values, secret_keys = config or read_stack_file(stack)
    except ConfigError as e:
        raise typer.BadParameter(str(e), param_hint="--stack") from None
    region = values.get("aws:region", "us-east-1")
    mocks = PlanMocks(region)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(values, secret_keys)
    # Run the program as Pulumi does (the project's __main__.py), not by importing the stacks.
    program = ROOT / "__main__.py"
    pulumi.runtime.test(lambda: runpy.run_path(str(program), run_name="__pulumi_program__"))()
    records = sorted(monitor.records, key=lambda r: r["urn"])
    return [
        {
            "type": r["type"],
            "name": r["name"],
            "urn": r["urn"],
            "parent": r["parent"],
            "inputs": r["inputs"],
            "dependencies": r["dependencies"],
            **({"propertyDependencies": r["propertyDependencies"]} if r["propertyDependencies"] else {}),
            "protect": r["protect"],
            "provider": r["provider"],
            **({"replaceWith": r["replaceWith"]} if r["replaceWith"] else {}),
            **({"aliases": r["aliases"]} if r["aliases"] else {}),
        }
        for r in records
    ]


def render_tree(resources: list[dict[str, Any]]) -> str:
    by_parent: dict[str | None, list[dict]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else None
        by_parent.setdefault(parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in by_parent.get(parent, []):
            keys = {k: r["inputs"][k] for k in KEY_INPUTS if k in r["inputs"]}
            shown = " ".join(f"{k}={json.dumps(v)}" for k, v in keys.items())
            flag = " [protect]" if r["protect"] else ""
            lines.append(f"{'  ' * depth}{r['type']}  {r['name']}{flag}  {shown}".rstrip())
            walk(r["urn"], depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def summary(resources: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in resources:
        counts[r["type"]] = counts.get(r["type"], 0) + 1
    return dict(sorted(counts.items()))


def to_dot(resources: list[dict[str, Any]], stack: str) -> str:
    """The resource graph: solid edges are parent/child, dashed edges are dependencies."""
    import graphviz

    g = graphviz.Digraph(f"plan-{stack}", graph_attr={"rankdir": "LR", "fontsize": "10"})
    g.attr("node", shape="box", fontsize="9")
    ids = {r["urn"]: f"n{i}" for i, r in enumerate(resources)}
    for r in resources:
        label = f"{r['name']}\\n{r['type'].split(':')[-1]}"
        g.node(ids[r["urn"]], label, style="bold" if r["protect"] else "solid")
    for r in resources:
        if r["parent"] in ids:
            g.edge(ids[r["parent"]], ids[r["urn"]])
        for d in r["dependencies"]:
            if d in ids and d != r["parent"]:
                g.edge(ids[d], ids[r["urn"]], style="dashed", color="gray50")
    return g.source


def snapshot_text(resources: list[dict[str, Any]]) -> str:
    return json.dumps(resources, indent=1, sort_keys=True) + "\n"


def write_snapshots(stack: str, resources: list[dict[str, Any]]) -> list[Path]:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    js = SNAPSHOTS / f"plan-{stack}.json"
    js.write_text(snapshot_text(resources))
    written.append(js)
    dot = SNAPSHOTS / f"plan-{stack}.dot"
    dot.write_text(to_dot(resources, stack))
    written.append(dot)
    if shutil.which("dot"):
        svg = SNAPSHOTS / f"plan-{stack}.svg"
        subprocess.run(["dot", "-Tsvg", str(dot), "-o", str(svg)], check=True)
        written.append(svg)
    return written


class PlanDiffError(Exception):
    """Why a plan diff could not be computed, in one line."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True)


def resolve_ref(ref: str, root: Path = ROOT) -> str:
    """The commit a git ref names in the repository at `root`."""
    out = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if ref.startswith("-") or out.returncode != 0:
        raise PlanDiffError(f"bad git ref {ref!r}: not a commit in {root}")
    return out.stdout.decode().strip()


@contextmanager
def materialized(commit: str, root: Path = ROOT) -> Iterator[Path]:
    """The tree of `commit`, exported into a temporary directory removed afterwards."""
    tree = Path(tempfile.mkdtemp(prefix="rdp-plan-diff-"))
    try:
        out = _git(root, "archive", "--format=tar", commit)
        if out.returncode != 0:
            raise PlanDiffError(f"git archive {commit[:12]} failed: {_last_line(out.stderr.decode())}")
        with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
            tar.extractall(tree, filter="data")
        yield tree
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def _last_line(stderr: str) -> str:
    """The error a failed run ends with, as one line: the final exception (or typer's error box)
    with its message, else the last line printed."""
    lines = [ln.strip(" │╭╰─╮╯\t") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln]
    found = (i for i in range(len(lines) - 1, -1, -1) if lines[i] == "Error" or _EXCEPTION.match(lines[i]))
    start = next(found, max(0, len(lines) - 1))
    start += start < len(lines) - 1 and lines[start] == "Error"
    return " ".join(lines[start:])[:400] or "no output"


def plan_in(tree: Path, stack: str, label: str) -> list[dict] | None:
    """The JSON plan of `stack` computed in `tree` by this interpreter; None without its config file."""
    if not (tree / f"Pulumi.{stack}.yaml").is_file():
        return None
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONSAFEPATH", None)
    cmd = [sys.executable, "-m", "infra.plan", "--stack", stack, "--format", "json"]
    out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise PlanDiffError(f"the plan of stack {stack} at {label} failed: {_last_line(out.stderr)}")
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise PlanDiffError(f"the plan of stack {stack} at {label} printed no JSON plan") from None


def plan_diff(ref: str, stacks: list[str], root: Path = ROOT) -> dict[str, dict]:
    """Per stack, the diff from the plan at `ref` to the plan of the working tree at `root`."""
    commit = resolve_ref(ref, root)
    with materialized(commit, root) as base, ThreadPoolExecutor(max_workers=2 * len(stacks)) as pool:
        sides = {
            (side, s): pool.submit(plan_in, tree, s, label)
            for side, tree, label in (("old", base, ref), ("new", root, "the working tree"))
            for s in stacks
        }
        plans = {key: future.result() for key, future in sides.items()}
        configs = {
            (side, s): cost_report.config_in(tree, s) for side, tree in (("old", base), ("new", root)) for s in stacks
        }
    results = {}
    for s in stacks:
        old, new = plans["old", s], plans["new", s]
        if old is None and new is None:
            raise PlanDiffError(f"no Pulumi.{s}.yaml in the working tree or at {ref}")
        results[s] = plandiff.diff_plans(old or [], new or [])
        try:
            cost_report.annotate(results[s], old or [], new or [], configs["old", s], configs["new", s])
        except cost.EstimateError as e:
            raise PlanDiffError(f"the cost of stack {s}: {e}") from None
    return results


def diff_command(ref: str, stacks: list[str], fmt: str) -> None:
    if fmt not in DIFF_FORMATS:
        raise typer.BadParameter("with --diff: text, markdown or json", param_hint="--format")
    for s in stacks:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", s):
            raise typer.BadParameter(f"{s!r} is not a stack name", param_hint="--stack")
    try:
        results = plan_diff(ref, stacks)
        base = f"{ref} ({resolve_ref(ref)[:12]})"
    except PlanDiffError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(DIFF_FORMATS[fmt](results, base))


def stack_monitor(cfg: StackConfig) -> dict:
    """The environment's resource monitor, which the account stack declares from this stack's config."""
    return cost.monitor_record(monitor_name(cfg.naming), cfg.resource_monitor)


def handover_command(stack: str, ref: str) -> None:
    """infra/handover.py's steps from the plan deployed at `ref` to the working tree's."""
    try:
        with materialized(resolve_ref(ref)) as tree:
            old = plan_in(tree, stack, ref) or []
    except PlanDiffError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    new, account = run_plan(stack), run_plan("account")
    for r in new:  # what the new plan answers to, aliases included
        r["aliases"] = [{"urn": u} for u in plandiff.reachable_urns(new)[r["urn"]]]
    admin = admin_role(stack_config(stack).naming)
    typer.echo(handover.handover(old, new, account, stack, admin), nl=False)


def lifecycle_command(stack: str) -> None:
    """infra/lifecycle.py's findings on the stack's plan, then its teardown runbook; exit 1 on a finding."""
    resources = run_plan(stack)
    account = resources if stack == ACCOUNT_STACK else run_plan(ACCOUNT_STACK)
    runners, spcs = lifecycle.network_inputs(read_stack_file(stack)[0])
    findings = lifecycle.check(stack, resources, account, runner_cidrs=runners, spcs_egress=spcs)
    typer.echo(lifecycle.render(stack, findings), nl=False)
    if stack != ACCOUNT_STACK:
        typer.echo(f"\nlifecycle {stack}: its first deploy from an empty account:\n")
        typer.echo(lifecycle_deploy.first_deploy(stack, resources, account), nl=False)
    typer.echo(f"\nlifecycle {stack}: {len(findings)} findings; tearing it down:\n")
    typer.echo(lifecycle_teardown.runbook(stack, resources), nl=False)
    if findings:
        raise typer.Exit(1)


def leftovers_command(stack: str, fmt: str) -> None:
    """infra/leftovers.py on the stack's plan: a `pr-<n>` stack without a stack file is planned from dev's
    config as review-stack.yml makes it. Exit 1 when the check would miss a name."""
    config = None
    if not (ROOT / f"Pulumi.{stack}.yaml").is_file():
        values, secrets = read_stack_file("dev")
        values = leftovers.review_values(values, PROJECT)
        config = (values, [k for k in secrets if k in values])
    naming = Naming(stack_config("dev" if config else stack).prefix, stack)
    cov = leftovers.coverage(run_plan(stack, config), naming)
    if fmt == "json":
        typer.echo(json.dumps(leftovers.expected(cov), indent=1, sort_keys=True))
    else:
        typer.echo(leftovers.render(stack, naming, cov), nl=False)
    if cov.findings:
        raise typer.Exit(1)


def cost_command(stack: str, fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise typer.BadParameter("with --cost: text or json", param_hint="--format")
    resources = run_plan(stack)
    stack_cfg = stack_config(stack)
    cfg = stack_cfg.cost
    try:
        lines = cost.estimate(resources, cfg, monitors=[stack_monitor(stack_cfg)])
    except cost.EstimateError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo((cost_report.render_json if fmt == "json" else cost_report.render_text)(stack, lines, cfg))


@app.command()
def plan(
    stacks: list[str] = typer.Option(
        None, "--stack", help="stack name: dev, prod, or any Pulumi.<stack>.yaml (repeatable with --diff)"
    ),
    format: str = typer.Option(None, "--format", help="tree, json or summary; with --diff: text, markdown or json"),
    write: bool = typer.Option(False, help="write the committed snapshot and graph under tests/snapshots"),
    diff: str = typer.Option(None, "--diff", metavar="GIT-REF", help="diff against the plan at this git ref"),
    cost_table: bool = typer.Option(False, "--cost", help="the monthly estimate per capability (text or json)"),
    handover_ref: str = typer.Option(
        None, "--handover", metavar="GIT-REF", help="the steps moving a stack deployed at GIT-REF to its own role"
    ),
    lifecycle_check: bool = typer.Option(
        False, "--lifecycle", help="replay create, refresh and destroy from the plan; exit 1 on a finding"
    ),
    leftovers_check: bool = typer.Option(
        False, "--leftovers", help="what the leftover check looks for after destroy; exit 1 if it misses a name"
    ),
) -> None:
    if diff is not None:
        return diff_command(diff, list(stacks or DIFF_STACKS), format or "text")
    if len(stacks or []) != 1:
        raise typer.BadParameter("give exactly one stack (several only with --diff)", param_hint="--stack")
    if cost_table:
        return cost_command(stacks[0], format or "text")
    if handover_ref is not None:
        return handover_command(stacks[0], handover_ref)
    if lifecycle_check:
        return lifecycle_command(stacks[0])
    if leftovers_check:
        return leftovers_command(stacks[0], format or "text")
    stack, format = stacks[0], format or "tree"
    if format not in ("tree", "json", "summary"):
        raise typer.BadParameter("must be tree, json or summary", param_hint="--format")
    resources = run_plan(stack)
    if write:
        for path in write_snapshots(stack, resources):
            typer.echo(f"wrote {path.relative_to(ROOT)}", err=True)
    if format == "json":
        sys.stdout.write(json.dumps(resources, indent=1, sort_keys=True) + "\n")
    elif format == "summary":
        counts = summary(resources)
        for typ, n in counts.items():
            typer.echo(f"{n:5d}  {typ}")
        typer.echo(f"{sum(counts.values()):5d}  resources in stack {stack}")
    else:
        typer.echo(render_tree(resources))
        typer.echo(f"\n{len(resources)} resources in stack {stack}")


if __name__ == "__main__":
    app()
