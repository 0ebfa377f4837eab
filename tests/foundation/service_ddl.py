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
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
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


# ------------------------------------------------------------------------------------ the plan's side
@dataclass(frozen=True)
class Held:
    """A CREATE privilege a principal reaches: on what, through which role and grant."""

    privilege: str
    on: str  # a schema's quoted name, a database's, or "account"
    role: str
    grant: str


def _inherited(plan: list[dict]) -> dict[str, set[str]]:
    """Grantee (a role, or `user:<name>`) → the roles granted to it directly."""
    edges: dict[str, set[str]] = defaultdict(set)
    for r in plan:
        if r["type"].endswith(INHERIT):
            i = r["inputs"]
            grantee = i.get("parentRoleName") or "user:" + i.get("userName", "")
            edges[grantee].add(i["roleName"])
    return edges


def roles_of(plan: list[dict], principal: str) -> set[str]:
    """Every role whose privileges `principal` (a role, or `user:<name>`) has: its own and inherited ones."""
    edges, seen, todo = _inherited(plan), set(), [principal]
    while todo:
        for role in edges.get(todo.pop(), ()):
            if role not in seen:
                seen.add(role)
                todo.append(role)
    return seen | ({principal} if not principal.startswith("user:") else set())


def _on(inputs: dict) -> str | None:
    """What a grant's CREATE privileges apply to; None for one schema object (no CREATE there)."""
    if "onSchema" in inputs:
        s = inputs["onSchema"]
        return s.get("schemaName") or "all schemas in " + s.get(
            "allSchemasInDatabase", s.get("futureSchemasInDatabase")
        )
    if "onAccountObject" in inputs:
        return inputs["onAccountObject"]["objectName"]
    return "account" if inputs.get("onAccount") else None


def held_ddl(plan: list[dict], principal: str) -> list[Held]:
    """The CREATE (or whole-schema) privileges `principal` reaches."""
    roles = roles_of(plan, principal)
    return [
        Held(p, on, r["inputs"]["accountRoleName"], r["name"])
        for r in plan
        if r["type"].endswith(GRANT) and r["inputs"]["accountRoleName"] in roles
        for p in r["inputs"].get("privileges", [])
        if (p.startswith("CREATE ") or p in WHOLE) and (on := _on(r["inputs"])) is not None
    ]


def schema_of(on: str) -> str | None:
    """`"RDP_PROD_RETAIL"."SILVER"` → SILVER."""
    parts = on.split(".")
    return parts[1].strip('"') if len(parts) == 2 else None


# ------------------------------------------------------------------------------------------- checks
def service_users(plan: list[dict]) -> dict[str, str]:
    """Duty → the name of its service user (the access component's users, RDP_<STACK>_SVC_<DUTY>)."""
    return {
        r["inputs"]["name"].rsplit("_SVC_", 1)[1].lower(): r["inputs"]["name"]
        for r in plan
        if r["type"].endswith("serviceUser:ServiceUser") and "_SVC_" in r["inputs"].get("name", "")
    }


def unused_ddl(
    plan: list[dict],
    uses: Mapping[str, list[Use]],
    duty_roles: Mapping[str, str],
    functional_roles: Iterable[str],
    stack: str,
) -> list[str]:
    """Every CREATE privilege a service user or functional role reaches is one its run-time steps use:
    a service user's own, a functional role's those of the duties holding it (none: no DDL at all). By
    kind, as a step's target schema is often a runtime value; undeclared_exfiltration is per schema."""
    needed = {d: {u.privilege for u in us} for d, us in uses.items()}
    problems = []
    principals = {f"user:{u}": [d] for d, u in service_users(plan).items()}
    for fr in functional_roles:
        principals[f"RDP_{stack.upper()}_{fr}"] = [d for d, role in duty_roles.items() if role == fr]
    for principal, duties in principals.items():
        for h in held_ddl(plan, principal):
            if not any(h.privilege in needed.get(d, ()) for d in duties):
                who = ", ".join(duties) or "no service duty"
                problems.append(
                    f"{principal} reaches {h.privilege} on {h.on} (through {h.role}, grant {h.grant}), "
                    f"which no run-time step of {who} issues"
                )
    return problems


def undeclared_exfiltration(plan: list[dict], declared: Mapping[str, Mapping[str, str]]) -> list[str]:
    """A stage, pipe, task, routine or integration a service user could create must be declared for its
    schema in RUNTIME_DDL with the step that uses it; on the account or the database, never."""
    problems = []
    for duty, user in service_users(plan).items():
        for h in held_ddl(plan, f"user:{user}"):
            if h.privilege in EXFILTRATION or h.privilege in WHOLE:
                schema = schema_of(h.on)
                if schema is None or h.privilege not in declared.get(schema, {}):
                    problems.append(
                        f"{user} ({duty}) may {h.privilege} on {h.on} (through {h.role}, grant {h.grant}), "
                        f"which RUNTIME_DDL does not declare for {schema or 'any schema'}"
                    )
    return problems


def undeclared_in_plan(plan: list[dict], declared: Mapping[str, Mapping[str, str]], stack: str) -> list[str]:
    """Each read/write access role holds on its schema exactly what RUNTIME_DDL declares for it."""
    problems = []
    for schema, ddl in declared.items():
        role = f"RDP_{stack.upper()}_AR_{schema}_RW"
        got = sorted(h.privilege for h in held_ddl(plan, role) if schema_of(h.on) == schema)
        if got != sorted(ddl):
            problems.append(f"{role} holds {got} on {schema}, RUNTIME_DDL declares {sorted(ddl)}")
    return problems


def unused_declarations(
    declared: Mapping[str, Mapping[str, str]], uses: Mapping[str, list[Use]], writers: Mapping[str, list[str]]
) -> list[str]:
    """Each privilege RUNTIME_DDL keeps for a schema is issued by a run-time step of a duty writing it."""
    problems = []
    for schema, ddl in declared.items():
        duties = writers.get(schema, [])
        for priv, step in ddl.items():
            if not any(u.privilege == priv for d in duties for u in uses.get(d, ())):
                problems.append(
                    f"RUNTIME_DDL[{schema!r}] keeps {priv} for {step!r}, but no run-time step of "
                    f"{', '.join(duties) or 'a duty writing it'} issues {priv}"
                )
    return problems


def ungranted_uses(plan: list[dict], uses: Mapping[str, list[Use]], waived: Mapping[tuple[str, str], str]) -> list[str]:
    """Each DDL a duty's steps issue is one its service user holds, or is waived with a reason; a waiver
    that no longer matches an ungranted use is stale."""
    users = service_users(plan)
    problems, unmet = [], set()
    for duty, us in uses.items():
        held = {h.privilege for h in held_ddl(plan, f"user:{users[duty]}")} if duty in users else set()
        for u in us:
            if u.privilege not in held:
                unmet.add((duty, u.privilege))
                if (duty, u.privilege) not in waived:
                    problems.append(f"{duty} issues {u.privilege} at {u.where}, which {users.get(duty)} does not hold")
    problems += [f"stale waiver {k}: {reason}" for k, reason in waived.items() if k not in unmet]
    return problems


def by_role(plan: list[dict]) -> dict[str, list[dict]]:
    """Account role → the inputs of the privilege grants made to it directly."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in plan:
        if r["type"].endswith(GRANT):
            out[r["inputs"]["accountRoleName"]].append(r["inputs"])
    return out


# ------------------------------------------------------------------ the privileges the steps' statements need
# What a statement of a post-deploy step needs on the objects it names: DML on the tables it writes, READ
# and WRITE on the stage it PUTs to (READ to COPY from it, WRITE to PURGE it), USAGE on the functions it
# calls, OPERATE on the tasks and dynamic tables it runs. Reads are not checked here (SELECT comes with the
# schema access roles).
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_QNAME = rf"({_IDENT}\.{_IDENT}\.{_IDENT})"
STATEMENT_NEEDS: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = (
    (re.compile(rf"\bINSERT\s+(?:OVERWRITE\s+)?INTO\s+{_QNAME}", re.I), ("INSERT",)),
    (re.compile(rf"\bCOPY\s+INTO\s+{_QNAME}", re.I), ("INSERT",)),
    (re.compile(rf"\bDELETE\s+FROM\s+{_QNAME}", re.I), ("DELETE",)),
    (re.compile(rf"\bUPDATE\s+{_QNAME}\s+SET\b", re.I), ("UPDATE",)),
    (re.compile(rf"\bMERGE\s+INTO\s+{_QNAME}", re.I), ("INSERT", "UPDATE")),
    (re.compile(rf"\bPUT\s+'[^']*'\s+@{_QNAME}", re.I), ("READ", "WRITE")),
    (re.compile(rf"\bFROM\s+@{_QNAME}", re.I), ("READ",)),
    (re.compile(rf"\bEXECUTE\s+TASK\s+{_QNAME}", re.I), ("OPERATE",)),
    (re.compile(rf"\bCALL\s+{_QNAME}", re.I), ("USAGE",)),
    (re.compile(rf"\bALTER\s+DYNAMIC\s+TABLE\s+{_QNAME}\s+REFRESH\b", re.I), ("OPERATE",)),
)
PURGE = re.compile(rf"\bFROM\s+@{_QNAME}.*\bPURGE\s*=\s*TRUE\b", re.I | re.S)
# plan resource type → the object type a grant names, and its plural in all/future grants
KINDS = {
    "table:Table": ("TABLE", "TABLES"),
    "dynamicTable:DynamicTable": ("DYNAMIC TABLE", "DYNAMIC TABLES"),
    "view:View": ("VIEW", "VIEWS"),
    "stageInternal:StageInternal": ("STAGE", "STAGES"),
    "functionPython:FunctionPython": ("FUNCTION", "FUNCTIONS"),
    "procedureSql:ProcedureSql": ("PROCEDURE", "PROCEDURES"),
    "procedurePython:ProcedurePython": ("PROCEDURE", "PROCEDURES"),
    "task:Task": ("TASK", "TASKS"),
    "sequence:Sequence": ("SEQUENCE", "SEQUENCES"),
}


@dataclass(frozen=True)
class Statement:
    """A statement a step sent, and the session it sent it on (service user and role)."""

    step: str
    user: str
    role: str
    sql: str


def qualified(name: str) -> tuple[str, ...]:
    """`"DB"."S".t(NUMBER)` → ("DB", "S", "T"): quoted parts as written, unquoted ones upper-cased."""
    parts = re.findall(r'"([^"]+)"|([^".(]+)', name.split("(", 1)[0])
    return tuple(q or u.strip().upper() for q, u in parts if q or u.strip())


def declared_objects(plan: list[dict]) -> dict[tuple[str, ...], tuple[str, str, str]]:
    """(database, schema, name) → (object type, plural, URN) of every schema object the plan declares."""
    out = {}
    for r in plan:
        kind = KINDS.get(r["type"].split("/", 1)[-1])
        i = r["inputs"]
        if kind and {"database", "schema", "name"} <= i.keys():
            out[(i["database"], i["schema"], i["name"])] = (*kind, r["urn"])
    return out


def after(plan: list[dict], urn: str) -> set[str]:
    """Every URN that `urn` depends on, directly or through others: what exists before it is created."""
    deps = {r["urn"]: r.get("dependencies", []) for r in plan}
    seen, todo = set(), [urn]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def statement_needs(sql: str, objects: Mapping[tuple[str, ...], tuple[str, ...]]) -> list[tuple[tuple, str]]:
    """(object, privilege) pairs a statement needs; an object it writes that the plan does not declare is
    ((…), "UNDECLARED")."""
    needs = [(qualified(m.group(1)), p) for rx, privs in STATEMENT_NEEDS for m in rx.finditer(sql) for p in privs]
    needs += [(qualified(m.group(1)), "WRITE") for m in PURGE.finditer(sql)]
    for obj, (kind, *_) in objects.items():
        if kind == "FUNCTION" and re.search(rf'(?<![\w"]){_fq_pattern(obj)}\s*\(', sql, re.I):
            needs.append((obj, "USAGE"))
    return [(o, p) if o in objects else (o, "UNDECLARED") for o, p in dict.fromkeys(needs)]


def _fq_pattern(obj: tuple[str, ...]) -> str:
    return r"\.".join(rf'(?:"{re.escape(p)}"|{re.escape(p)}\b)' for p in obj)


def object_privileges(plan: list[dict], role: str, obj: tuple[str, ...], declared: tuple[str, ...]) -> set[str]:
    """What `role` holds on one declared object through every role it inherits: grants on the object
    itself, a future grant of its kind in its schema only if the object is created after it (Snowflake
    applies future grants at creation; made beside the object, it may come too late), an all-grant only
    if made after the object (ALL and OWNERSHIP hold everything)."""
    _, plural, urn = declared
    roles, held, before = roles_of(plan, role), set(), after(plan, urn)
    for r in plan:
        i = r["inputs"]
        if not r["type"].endswith(GRANT) or i.get("accountRoleName") not in roles or "onSchemaObject" not in i:
            continue
        on = i["onSchemaObject"]
        scope = "future" if "future" in on else "all" if "all" in on else None
        ordered = r["urn"] in before if scope == "future" else urn in after(plan, r["urn"])
        in_schema = (
            scope and on[scope].get("objectTypePlural") == plural and qualified(on[scope]["inSchema"]) == obj[:2]
        )
        if (on.get("objectName") and qualified(on["objectName"]) == obj) or (in_schema and ordered):
            held |= set(i.get("privileges", []))
    return held


def unheld_needs(plan: list[dict], statements: Iterable[Statement]) -> list[str]:
    """Each statement's session role is granted to its user and holds what the statement needs."""
    objects, problems = declared_objects(plan), []
    for s in statements:
        if s.role not in roles_of(plan, f"user:{s.user}"):
            problems.append(f"{s.step}: {s.user} runs as {s.role}, which the plan does not grant it")
        for obj, priv in statement_needs(s.sql, objects):
            name = ".".join(obj)
            if priv == "UNDECLARED":
                problems.append(f"{s.step}: names {name}, which the plan does not declare")
            elif not ({priv, *WHOLE} & object_privileges(plan, s.role, obj, objects[obj])):
                problems.append(f"{s.step} as {s.role} ({s.user}) needs {priv} on {name}, which it does not hold")
    return list(dict.fromkeys(problems))


class Recording:
    """A connection and its cursor in one, on a deployed stack as one service user and role: it keeps
    every statement and answers each query with a zero (empty tables, nothing to fetch), a procedure's
    CALL with an empty JSON object."""

    def __init__(self, log: list[Statement], step: Callable[[], str], user: str, role: str) -> None:
        self.log, self.step, self.user, self.role = log, step, user, role
        self.description = [("N",)]
        self.last = ""

    def cursor(self) -> Recording:
        return self

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: object = None) -> Recording:
        self.log.append(Statement(self.step(), self.user, self.role, sql))
        self.last = sql
        return self

    def executemany(self, sql: str, rows: object) -> Recording:
        return self.execute(sql)

    def fetchone(self) -> tuple[int | str]:
        return ("{}",) if self.last.lstrip().upper().startswith("CALL ") else (0,)

    def fetchall(self) -> list:
        return []

    def commit(self) -> None:
        return None

    def close(self) -> None:
        return None


def stack_outputs_of(plan: list[dict]) -> dict:
    """What `pulumi stack output` of a deployed stack holds for the steps' sessions, from its plan."""
    by_name = {r["name"]: r["inputs"] for r in plan}
    roles = {r["inputs"]["name"] for r in plan if r["type"].endswith("accountRole:AccountRole")}
    database = next(r["inputs"]["name"] for r in plan if r["type"].endswith("database:Database"))
    return {
        "database": database,
        "serviceUsers": service_users(plan),
        "functionalRoles": {n.split("_", 2)[2]: n for n in roles if n.count("_") >= 2},
        "warehouses": {k: by_name[f"foundation-wh-{k}"]["name"] for k in ("load", "transform", "serve")},
        "postgresLoaderSecret": "arn:planned",
        "dynamodbTable": "planned",
    }
