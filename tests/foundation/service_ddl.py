"""The two sides of "a service role holds exactly the DDL its run-time steps use": what those steps would
create, read from their code (the statements of the modules they run against a deployed stack, the SQL
files and infra helpers those modules reach, and the library calls that issue DDL of their own), and
what the plan lets each service user and functional role create, through every role it inherits.

Each check is a pure function of a plan, the steps' needs and the declared data, returning readable
problems, so tests/foundation/test_service_ddl.py runs them on the real plan and on planted faults.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRANT = "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
INHERIT = "grantAccountRole:GrantAccountRole"

# ------------------------------------------------------------------------------------------------ data
# Every module of scripts/ and services/ that issues SQL, by who runs it and where. The service users'
# modules are scanned; a new module that issues SQL must be placed here (test_every_sql_module_is_placed).
RUNTIME_MODULES: dict[str, tuple[str, ...]] = {
    "loader": (
        "scripts/cdc/writer.py",  # the change generator as CDC_WRITER: NEXTVAL, PUT and COPY through its stage
        "scripts/analytics/loads.py",  # generate, changes: PUT + COPY through the load stage, UPDATE
        "scripts/recommendations/loads.py",  # generate: the reference rows, the counts
        "scripts/recommendations/warehouse.py",  # generate: DELETE + INSERT … FROM TABLE(GENERATE_*(…))
    ),
    "transformer": (
        "scripts/analytics/loads.py",  # run: EXECUTE TASK, the dynamic tables' REFRESH
        "scripts/analytics/graphs.py",  # run: EXECUTE TASK of each graph's root, its TASK_HISTORY read
        "scripts/cdc/loads.py",  # the refresh task's statement, the aggregated table and monitoring view
        "scripts/recommendations/loads.py",  # build, train: counts, the training reads
        "scripts/recommendations/warehouse.py",  # REFRESH, INSERT OVERWRITE through PREDICT_PROPENSITY, PUT model
        "scripts/recommendations/registry.py",  # PUT of each run's model files, CALL of REGISTRY_OPS
        # REGISTRY_OPS's body: a caller's-rights procedure, so what it creates, TRANSFORMER creates
        "sql/recommendations/ml_registry.py",
        "scripts/recommendations/snapshot.py",  # the ranking model's reads
        "scripts/recommendations/evaluation.py",  # the evaluation's reads
        "scripts/serving/loads.py",  # the sync and export reads (their Postgres side is scripts/serving/postgres.py)
        "scripts/api/loads.py",  # a customer to ask the API for, the SPCS service's status
        "scripts/monitor/signals.py",  # the monitor's reads: task and refresh history, pipe status, streams
        "scripts/review/smoke.py",  # a review stack's smoke: counts of the loaded tables
        "scripts/ingestion/dbt.py",  # dbt build as the DBT role: the project's tables, views and snapshot
    ),
    "app": (),  # an application calling the API's endpoint: no code of this repository logs in as it
    "registry": (),  # docker push to the image repository
}
# What every duty's steps share (sessions, counts, transactions), and what of it only the stand-in runs.
SHARED_MODULES = ("scripts/core/connections.py",)
# what `pulumi up` does, locally
LOCAL_FUNCTIONS = {
    "scripts/core/connections.py": ("ensure_foundation",),
    "scripts/ingestion/dbt.py": ("prepare_local",),
}
# A module that runs a dbt project issues the DDL of the project's materializations (dbt_creates).
DBT_PROJECTS = {"scripts/ingestion/dbt.py": "sql/ingestion/dbt"}
# dbt materialization → the schema privilege it needs (a snapshot's staging table is a temporary table)
DBT_MATERIALIZATIONS = {
    "table": ("CREATE TABLE",),
    "incremental": ("CREATE TABLE",),
    "snapshot": ("CREATE TABLE",),
    "view": ("CREATE VIEW",),
    "materialized_view": ("CREATE MATERIALIZED VIEW",),
    "dynamic_table": ("CREATE DYNAMIC TABLE",),
    "ephemeral": (),
}
# Modules that issue SQL but never as a service user.
OTHER_SQL_MODULES: dict[str, str] = {
    "scripts/dashboard/loads.py": "the deploy user, with its admin role, publishes the dashboard's files",
    "scripts/review/leftovers.py": "the review identity's SHOW listings after a review stack's destroy",
    "services/api/orchestrator/orchestrator/backends.py": "the API's containers, as the API owner role",
    "services/api/orchestrator/orchestrator/warehouse.py": "the API's containers, as the API owner role",
    "services/dashboard/queries.py": "the dashboard in Snowflake, as its owner (locally, the stand-in)",
    "scripts/serving/postgres.py": "Postgres",
    "scripts/serving/staging.py": "Postgres",
    "scripts/serving/rankings.py": "the sync's session: the published ranking model's GET (and Postgres)",
    "scripts/standins/postgres.py": "Postgres, the stand-in",
    "scripts/ingestion/localfeed.py": "the stand-in only: each feed's local pipe and task (rehearsal.py's)",
}
STAND_IN_MODULES = re.compile(r"^scripts/(\w+/(rehearsal|bench)\.py|standins/.*)$")
SQL_CALL = re.compile(r"\.execute(many|_string)?\(|write_pandas")

# Library calls that issue DDL of their own, and what: write_pandas PUTs into a temporary stage it creates
# in the target schema (a file format and the table too when it creates or overwrites the table).
LIBRARY_DDL: dict[str, tuple[str, ...]] = {
    "write_pandas": ("CREATE STAGE",),
    "log_model": ("CREATE MODEL",),  # snowflake-ml's registry
    "register_feature_view": ("CREATE VIEW",),  # snowflake-ml's feature store: a view without refresh_freq
    "register_entity": ("CREATE TAG",),  # snowflake-ml's feature store: an entity is a tag
    "save_as_table": ("CREATE TABLE",),  # Snowpark
    "cache_result": ("CREATE TABLE",),  # Snowpark's temporary table
}
WRITE_PANDAS_CREATES_TABLE = ("auto_create_table", "overwrite")

# DDL that opens a way out of the account or runs code later, as its owner: held by no service role
# unless a run-time step needs it and RUNTIME_DDL declares it for that schema.
EXFILTRATION = (
    "CREATE STAGE",
    "CREATE EXTERNAL TABLE",
    "CREATE PIPE",
    "CREATE TASK",
    "CREATE ALERT",
    "CREATE PROCEDURE",
    "CREATE FUNCTION",
    "CREATE SERVICE",
    "CREATE STREAMLIT",
    "CREATE NOTEBOOK",
    "CREATE SECRET",
    "CREATE NETWORK RULE",
    "CREATE INTEGRATION",
)
WHOLE = ("ALL", "ALL PRIVILEGES", "OWNERSHIP")  # on a schema or the database: every CREATE there

_KIND = (
    r"DYNAMIC\s+TABLE|EXTERNAL\s+TABLE|HYBRID\s+TABLE|ICEBERG\s+TABLE|EVENT\s+TABLE|TABLE|MATERIALIZED\s+VIEW|VIEW"
    r"|STAGE|FILE\s+FORMAT|PIPE|STREAM|TASK|ALERT|PROCEDURE|EXTERNAL\s+FUNCTION|FUNCTION|SEQUENCE|MODEL|TAG"
    r"|SECRET|NETWORK\s+RULE|STREAMLIT|SERVICE|IMAGE\s+REPOSITORY|NOTEBOOK|SCHEMA|DATABASE|(?:\w+\s+)?INTEGRATION"
)
DDL = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:LOCAL|GLOBAL|SCOPED|TEMP|TEMPORARY|VOLATILE|TRANSIENT|SECURE|RECURSIVE)\s+)*"
    rf"({_KIND})\b",
    re.I,
)
SQL_FILE = re.compile(r"^[\w./*-]+\.sql$")


def privilege(kind: str) -> str:
    """The schema (or account) privilege a CREATE of `kind` needs: `CREATE TEMPORARY STAGE` → CREATE STAGE."""
    kind = " ".join(kind.upper().split())
    if kind.endswith("INTEGRATION"):
        return "CREATE INTEGRATION"
    return "CREATE " + {"EXTERNAL FUNCTION": "FUNCTION"}.get(kind, kind)


# ------------------------------------------------------------------------------------ the code's side
@dataclass(frozen=True)
class Use:
    """A run-time statement (or library call) that needs `privilege`, and where it is."""

    privilege: str
    where: str


def _strings(node: ast.AST) -> str | None:
    """A string constant, or an f-string with `*` for each value (so `f"serving/sync/{n}.sql"` globs)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
    }


def _walk(node: ast.AST, skip: Iterable[str]) -> Iterator[ast.AST]:
    """Every node under `node` but the bodies of the functions named in `skip`; an f-string is one
    node (its text), with the expressions it formats."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.name in skip:
            continue
        yield child
        if isinstance(child, ast.JoinedStr):
            for v in child.values:
                if isinstance(v, ast.FormattedValue):
                    yield v.value
                    yield from _walk(v.value, skip)
        else:
            yield from _walk(child, skip)


def sql_uses(text: str, where: str) -> list[Use]:
    """The DDL in SQL text (comment lines left out)."""
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("--"))
    return [Use(privilege(m.group(1)), where) for m in DDL.finditer(body)]


class Scanner:
    """Reads the run-time modules of a tree, following calls into infra/ and services/ (the catalogs'
    SQL builders) and the SQL files they name; scripts/ modules are listed, never followed, so a
    stand-in's rehearsal reached from a step's `--local` branch is not counted."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self._seen: set[tuple[str, str]] = set()

    def module(self, rel: str, skip: Iterable[str] = ()) -> list[Use]:
        tree = ast.parse((self.root / rel).read_text(), rel)
        dbt = (
            [Use(p, where) for _, p, where in dbt_creates(self.root, DBT_PROJECTS[rel])] if rel in DBT_PROJECTS else []
        )
        return self._scan(tree, rel, self._imports(tree, rel), tuple(skip)) + dbt

    def _scan(self, node: ast.AST, rel: str, imports: dict[str, tuple[str, str | None]], skip) -> list[Use]:
        uses: list[Use] = []
        docs = _docstrings(node)
        for n in _walk(node, skip):
            text = _strings(n) if id(n) not in docs else None
            if text is not None:
                uses += self._text(text, f"{rel}:{n.lineno}")
            if isinstance(n, ast.Call):
                uses += self._call(n, rel, imports)
        return uses

    def _text(self, text: str, where: str) -> list[Use]:
        if SQL_FILE.match(text):
            return [u for p in sorted((self.root / "sql").glob(text)) for u in sql_uses(p.read_text(), self._rel(p))]
        return sql_uses(text, where)

    def _call(self, call: ast.Call, rel: str, imports: dict) -> list[Use]:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        where = f"{rel}:{call.lineno} {name}"
        uses = [Use(p, where) for p in LIBRARY_DDL.get(name, ())]
        if name == "write_pandas" and any(
            k.arg in WRITE_PANDAS_CREATES_TABLE and getattr(k.value, "value", False) is not False for k in call.keywords
        ):
            uses += [Use("CREATE TABLE", where), Use("CREATE FILE FORMAT", where)]
        uses += [Use(p, where) for p in _feature_store_ddl(call, name)]
        target = self._target(func, imports)
        if target and target[0].startswith(("infra.", "services.")):
            uses += self._function(*target)
        return uses

    @staticmethod
    def _target(func: ast.expr, imports: dict) -> tuple[str, str] | None:
        if isinstance(func, ast.Name) and func.id in imports:
            module, attr = imports[func.id]
            return (module, attr) if attr else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in imports:
            module, attr = imports[func.value.id]
            return (f"{module}.{attr}" if attr else module, func.attr)
        return None

    def _function(self, module: str, name: str) -> list[Use]:
        """The uses of a top-level function of a project module, once per scan."""
        path = self.root / (module.replace(".", "/") + ".py")
        if (module, name) in self._seen or not path.is_file():
            return []
        self._seen.add((module, name))
        rel = self._rel(path)
        tree = ast.parse(path.read_text(), rel)
        imports = self._imports(tree, rel)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return self._scan(ast.Module(body=[node], type_ignores=[]), rel, imports, ())
        return []

    @staticmethod
    def _imports(tree: ast.Module, rel: str) -> dict[str, tuple[str, str | None]]:
        """Local name → (module, attribute or None), the module's own functions included."""
        found: dict[str, tuple[str, str | None]] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    found[a.asname or a.name] = (node.module, a.name)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    found[a.asname or a.name.split(".")[0]] = (a.name if a.asname else a.name.split(".")[0], None)
            elif isinstance(node, ast.FunctionDef):
                found[node.name] = (_module_name(rel), node.name)
        return found

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _feature_store_ddl(call: ast.Call, name: str) -> tuple[str, ...]:
    """snowflake-ml's DDL decided by arguments: a FeatureView with a refresh_freq is a dynamic table; a
    FeatureStore opened with CREATE_IF_NOT_EXIST creates its schema, tags and status table."""
    kw = {k.arg: k.value for k in call.keywords}
    if name == "FeatureView" and "refresh_freq" in kw and getattr(kw["refresh_freq"], "value", 0) is not None:
        return ("CREATE DYNAMIC TABLE",)
    if name == "FeatureStore" and "CREATE_IF_NOT_EXIST" in ast.dump(kw.get("creation_mode", ast.Constant(None))):
        return ("CREATE SCHEMA", "CREATE TAG", "CREATE TABLE")
    return ()


def _module_name(rel: str) -> str:
    return rel.removesuffix(".py").replace("/", ".")


_CONFIG = re.compile(r"config\(([^)]*)\)")
_KEY = re.compile(r"""(\w+)\s*=\s*['"]([^'"]+)['"]""")


def dbt_creates(root: Path, project: str) -> list[tuple[str, str, str]]:
    """(schema, privilege, where) for each model and snapshot of a dbt project: its materialization and
    schema from dbt_project.yml's folder configs (`+materialized`, `+schema`), a model's own `config(...)`
    or a snapshot's `config:`; a materialization dbt could not name is an error, not a pass."""
    base = root / project
    conf = yaml.safe_load((base / "dbt_project.yml").read_text())
    name = conf["name"]
    out = []
    for sql in sorted((base / "models").rglob("*.sql")):
        cfg: dict[str, str] = {}
        node = conf.get("models", {}).get(name, {})
        for part in sql.relative_to(base / "models").parts[:-1]:
            node = node.get(part, {})
            cfg |= {k.lstrip("+"): v for k, v in node.items() if k.startswith("+")}
        for m in _CONFIG.finditer(sql.read_text()):
            cfg |= dict(_KEY.findall(m.group(1)))
        out += _creates(cfg.get("materialized", "view"), cfg.get("schema"), sql.relative_to(root).as_posix())
    folder = {k.lstrip("+"): v for k, v in conf.get("snapshots", {}).get(name, {}).items() if k.startswith("+")}
    for spec in sorted((base / "snapshots").rglob("*.yml")):
        for snap in yaml.safe_load(spec.read_text()).get("snapshots", []):
            schema = snap.get("config", {}).get("schema", folder.get("schema"))
            out += _creates("snapshot", schema, spec.relative_to(root).as_posix())
    return out


def _creates(materialized: str, schema: str | None, where: str) -> list[tuple[str, str, str]]:
    if materialized not in DBT_MATERIALIZATIONS:
        raise ValueError(f"{where}: dbt materialization {materialized!r} is not one the scanner knows")
    return [(str(schema).upper(), p, f"{where}:1") for p in DBT_MATERIALIZATIONS[materialized]]


def runtime_uses(root: Path = ROOT, modules: Mapping[str, tuple[str, ...]] = RUNTIME_MODULES) -> dict[str, list[Use]]:
    """Duty → the DDL its run-time steps issue against a deployed stack."""
    out = {}
    for duty, rels in modules.items():
        scanner = Scanner(root)
        shared = [u for rel in SHARED_MODULES for u in scanner.module(rel, LOCAL_FUNCTIONS.get(rel, ()))]
        out[duty] = [u for rel in rels for u in scanner.module(rel, LOCAL_FUNCTIONS.get(rel, ()))] + shared
    return out


def unplaced_sql_modules(root: Path = ROOT) -> list[str]:
    """Modules of scripts/ and services/ that issue SQL but are neither a duty's, shared, the stand-ins'
    nor one of the others: whoever adds one decides who runs it."""
    placed = {m for mods in RUNTIME_MODULES.values() for m in mods} | set(SHARED_MODULES) | set(OTHER_SQL_MODULES)
    found = []
    for tree in ("scripts", "services"):
        for p in sorted((root / tree).rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            if rel not in placed and not STAND_IN_MODULES.match(rel) and SQL_CALL.search(p.read_text()):
                found.append(f"{rel} issues SQL but is not placed in tests/foundation/service_ddl.py")
    return found
