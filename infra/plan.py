"""The credential-free preview: run the real program under Pulumi's mocks and show what it declares.

python -m infra.plan --stack dev                 # readable tree
python -m infra.plan --stack prod --format json  # one JSON object per resource
python -m infra.plan --stack dev --write         # refresh tests/snapshots/plan-dev.{json,dot,svg}
"""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from infra.config import PROJECT, ConfigError, read_stack_file
from infra.mocks import PlanMocks, RecordingMonitor

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

app = typer.Typer(add_completion=False, help=__doc__)


def run_plan(stack: str) -> list[dict[str, Any]]:
    """Run stacks.platform under mocks with the stack's config; return the recorded resources."""
    import pulumi

    try:
        values, secret_keys = read_stack_file(stack)
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


@app.command()
def plan(
    stack: str = typer.Option(..., help="stack name: dev, prod, or any Pulumi.<stack>.yaml"),
    format: str = typer.Option("tree", "--format", help="tree, json or summary"),
    write: bool = typer.Option(False, help="write the committed snapshot and graph under tests/snapshots"),
) -> None:
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
