"""`python -m scripts.ingestion dbt --stack S | --local`: the ingestion capability's dbt layer
(sql/ingestion/dbt/: a silver model over Bronze, the customers' SCD2 snapshot, a gold view, and their
tests), built with `dbt build` and its results shown as a table.

    python -m scripts.ingestion dbt --local                 # on the fakesnow stand-in (make local does this)
    SNOWFLAKE_TRANSFORMER_KEY_PATH=transformer.p8 python -m scripts.ingestion dbt --stack dev
    python -m scripts.ingestion dbt --stack dev --command test --select customer_insights

On a stack dbt logs in as the transformer service user (its key, as for every transformer step) with the
DBT role, which builds only in DBT_SILVER and DBT_GOLD; the names come from infra/naming.py. Locally the
same project and the same adapter (dbt-snowflake) speak to the fakesnow endpoint over HTTP, so the SQL
that runs here is the SQL Snowflake runs: dbt-duckdb would need the models in DuckDB's dialect and a
second copy of Bronze, and could not read the stand-in's tables while fakesnow holds them.

dbt runs as a process from its own venv (.venv-dbt, from .github/requirements/dbt.txt): its dependencies
cannot share the project's (see dbt.in).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from snowflake.connector.errors import ProgrammingError

from infra.config.reader import stack_config
from infra.ingestion.dbt_catalog import PROJECT_DIR, SCHEMAS, identity, sources
from infra.naming import Naming, quote
from scripts.core.connections import connect_local, key_variable
from scripts.core.console import console
from scripts.core.errors import LoadError
from scripts.core.target import ROOT
from scripts.standins import STATE_DIR, Endpoints

DBT_VENV = ROOT / ".venv-dbt"
COMMANDS = ("build", "run", "snapshot", "test", "compile", "debug")


@dataclass(frozen=True)
class DbtTarget:
    """Where dbt builds: the profile's target (`stack` or `standin`), its variables, and a work directory
    for dbt's artifacts and logs (never the project's own directory)."""

    target: str
    env: dict[str, str]
    work: Path


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt run: a model, snapshot or test, and how it ended."""

    name: str
    kind: str
    status: str
    seconds: float
    message: str


def dbt_executable() -> Path:
    """The dbt of the project's dbt venv (RDP_DBT may name another)."""
    exe = Path(os.environ.get("RDP_DBT", DBT_VENV / "bin" / "dbt"))
    if not exe.is_file():
        raise LoadError(f"dbt is not installed at {exe}: run `make setup` (it creates {DBT_VENV.name})")
    return exe


def stack_target(stack: str) -> DbtTarget:
    """The transformer service user with the DBT role on a deployed stack, by key pair."""
    cfg = stack_config(stack)
    variable = key_variable("transformer")
    key = os.environ.get(variable)
    if not key:
        raise LoadError(f"{variable} is not set: point it at the transformer service user's private key")
    who = identity(cfg.naming)
    env = {
        "DBT_SNOWFLAKE_ACCOUNT": f"{cfg.snowflake.organization}-{cfg.snowflake.account}",
        "DBT_SNOWFLAKE_USER": who.user,
        "DBT_SNOWFLAKE_ROLE": who.role,
        "DBT_SNOWFLAKE_WAREHOUSE": who.warehouse,
        "DBT_SNOWFLAKE_DATABASE": who.database,
        variable: key,
    }
    return DbtTarget("stack", env, STATE_DIR / "dbt" / stack)


def local_target(naming: Naming, ep: Endpoints) -> DbtTarget:
    """The stand-in: the fakesnow endpoint, with the stack's names (fakesnow checks no role or login)."""
    who = identity(naming)
    env = {
        "DBT_STANDIN_PASSWORD": "local",
        "DBT_STANDIN_HOST": ep.snowflake_host,
        "DBT_STANDIN_PORT": str(ep.snowflake_port),
        "DBT_SNOWFLAKE_ROLE": who.role,
        "DBT_SNOWFLAKE_WAREHOUSE": who.warehouse,
        "DBT_SNOWFLAKE_DATABASE": who.database,
    }
    return DbtTarget("standin", env, STATE_DIR / "dbt" / f"local-{naming.sf_prefix.lower()}")


def prepare_local(naming: Naming, ep: Endpoints) -> None:
    """What `pulumi up` declares for dbt, on the stand-in: its schemas. Its sources are the ingestion
    rehearsal's; without them there is nothing to build, which is said in one line."""
    with connect_local(ep.snowflake_host, ep.snowflake_port) as conn:
        cur = conn.cursor()
        for key, fq in sources(naming.database).items():
            try:
                cur.execute(f"SELECT COUNT(*) FROM {fq}")
            except ProgrammingError as e:
                raise LoadError(f"dbt's source {key} ({fq}) is not there: run `make local` (ingestion) first") from e
        for schema in SCHEMAS:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(naming.database, schema)}")


def run_dbt(target: DbtTarget, command: str = "build", select: tuple[str, ...] = ()) -> list[NodeResult]:
    """`dbt <command>` on the target, its log shown as it comes; a failed model, snapshot or test is a
    LoadError naming each."""
    if command not in COMMANDS:
        raise ValueError(f"dbt command {command!r} is not one of {', '.join(COMMANDS)}")
    target.work.mkdir(parents=True, exist_ok=True)
    results = target.work / "target" / "run_results.json"
    results.unlink(missing_ok=True)
    cmd = [str(dbt_executable()), command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    cmd += ["--target", target.target, "--target-path", str(target.work / "target")]
    cmd += ["--log-path", str(target.work / "logs")]
    if select:
        cmd += ["--select", *select]
    done = subprocess.run(cmd, env={**os.environ, **target.env}, cwd=target.work, check=False)
    nodes = read_results(results)
    failed = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
    if done.returncode or failed:
        what = "; ".join(f"{n.name}: {n.status} ({n.message})" for n in failed) or f"exit {done.returncode}"
        raise LoadError(f"dbt {command} failed: {what}")
    return nodes


def read_results(path: Path) -> list[NodeResult]:
    """The nodes of dbt's run_results.json (none if dbt stopped before running any)."""
    if not path.is_file():
        return []
    out = []
    for r in json.loads(path.read_text())["results"]:
        kind, _, name, *_ = r["unique_id"].split(".")  # test.<project>.<name>.<hash>, model.<project>.<name>
        out.append(NodeResult(name, kind, r["status"], round(r["execution_time"], 2), r["message"] or ""))
    return out


def results_table(nodes: list[NodeResult]) -> Table:
    """What dbt built and checked, a row per node."""
    table = Table(title="dbt build", show_lines=False)
    for col in ("node", "kind", "status", "s", "message"):
        table.add_column(col, justify="right" if col == "s" else "left")
    for n in nodes:
        table.add_row(n.name, n.kind, n.status, f"{n.seconds:.2f}", n.message)
    return table


def dbt_cmd(stack: str, local: bool, command: str = "build", select: tuple[str, ...] = ()) -> list[NodeResult]:
    """Build the dbt layer on a deployed stack or on the stand-in, and show what it did."""
    if local:
        from scripts import standins

        ep, naming = standins.endpoints(), stack_config(stack).naming
        prepare_local(naming, ep)
        target = local_target(naming, ep)
    else:
        target = stack_target(stack)
    nodes = run_dbt(target, command, select)
    console.print(results_table(nodes))
    return nodes
