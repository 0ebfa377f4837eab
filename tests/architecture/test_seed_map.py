"""The README's map from the seed documents to the platform stays true where a machine can tell: each seed
has its table, each row's status has one of three forms, and what the `here` column names exists (a file,
a command, a Snowflake object of the plan, a resource). Names are checked against the committed plans,
which tests/plan/test_snapshots.py keeps equal to the program's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

SECTION = "## From the seeds to the platform"
FOLLOWED_BY = "## Deploying for real"
HEADER = "| seed item | here (resource / file / command) | status |"
SEEDS = (
    "README.md",
    "000_d1b3c6198a6e58a2.txt",
    "001_5d4ad7c43e04dc4a.txt",
    "002_328c71880ed0a25a.txt",
    "003_1092ccbddd5796ce.txt",
    "004_31f8a3c722e60ab5.txt",
)
SEEDS_DIR = ROOT.parent / "shared" / "seeds"  # beside the repository, where the README points
STATUSES = ("present", "different", "missing")
STATUS = re.compile(r"(present|(different|missing): \S.*)")
PENDING = re.compile(r"\s*<!-- pending:([a-z0-9-]+) -->$")
TOKEN = re.compile(r"`([^`]+)`( \(local only\))?")
CAPS = re.compile(r"[A-Z][A-Z0-9_<>]*(\.[A-Z][A-Z0-9_<>]*)?")
RESOURCE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
FILE_SUFFIXES = (".py", ".sql", ".md", ".toml", ".txt", ".yaml", ".yml", ".tmpl", ".html", ".json", ".dot")
COUNTS = re.compile(r"<!-- seed-map-counts -->\n(.*?)<!-- /seed-map-counts -->", re.S)
LOCAL_TREES = ("infra", "sql", "scripts")


@dataclass(frozen=True)
class Row:
    line: int
    item: str
    here: str
    status: str
    pending: str | None


@dataclass(frozen=True)
class Plans:
    """What the committed plans declare: Snowflake objects by (schema, name), every name, resource names."""

    objects: set[tuple[str | None, str]]
    names: set[str]
    resources: set[str]
    text: str

    @classmethod
    def load(cls, root: Path) -> Plans:
        resources = [r for s in ("dev", "account") for r in json.loads(_snapshot(root, s).read_text())]
        objects = {(r["inputs"].get("schema"), r["inputs"]["name"]) for r in resources if "name" in r["inputs"]}
        return cls(
            objects=objects,
            names={name for _, name in objects if isinstance(name, str)},
            resources={r["name"] for r in resources},
            text=_snapshot(root, "dev").read_text(),
        )


def _snapshot(root: Path, stack: str) -> Path:
    return root / "tests" / "snapshots" / f"plan-{stack}.json"


def section(readme: str) -> tuple[str, int, list[str]]:
    """The section's text, its first line number and what is wrong with where it stands."""
    lines = readme.splitlines()
    start = next((n for n, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        return "", 0, [f"README.md: no `{SECTION}` section"]
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    found = (
        []
        if end < len(lines) and lines[end].strip() == FOLLOWED_BY
        else [f"`{SECTION}` is not just before `{FOLLOWED_BY}`"]
    )
    return "\n".join(lines[start:end]), start + 1, found


def tables(text: str, first_line: int) -> tuple[dict[str, list[Row]], list[str]]:
    """Each `### \\`<seed>\\`` subsection's rows, and what does not parse."""
    found: list[str] = []
    out: dict[str, list[Row]] = {}
    seed = None
    in_table = False
    for n, line in enumerate(text.splitlines(), start=first_line):
        if line.startswith("### "):
            m = re.match(r"### `([^`]+)`", line)
            seed = m.group(1) if m else None
            in_table = False
            if seed is None:
                found.append(f"README.md:{n}: a subsection that names no seed file: {line}")
            elif seed in out:
                found.append(f"README.md:{n}: a second table for {seed}")
            else:
                out[seed] = []
        elif line.strip() == HEADER:
            in_table = seed is not None
        elif in_table and line.startswith("|") and not line.startswith("|---"):
            row = _row(line, n)
            if isinstance(row, str):
                found.append(row)
            else:
                out[seed].append(row)  # type: ignore[index]
        elif in_table and not line.strip():
            in_table = False
    return out, found


def _row(line: str, n: int) -> Row | str:
    body = line.strip()
    m = PENDING.search(body[:-1].rstrip()) if body.endswith("|") else None
    pending = m.group(1) if m else None
    if m:
        body = body[:-1].rstrip()[: m.start()] + " |"
    cells = [c.strip() for c in body.strip("|").split("|")]
    if len(cells) != 3:
        return f"README.md:{n}: {len(cells)} cells, not 3: {line}"
    return Row(n, cells[0], cells[1], cells[2], pending)


def row_problems(row: Row, plans: Plans, root: Path) -> list[str]:
    """A row's status form and every checkable name in its `here` column."""
    where = f"README.md:{row.line}"
    found = []
    if not STATUS.fullmatch(row.status):
        found.append(f"{where}: status `{row.status}` is not `present`, `different: <why>` or `missing: <why>`")
    if row.pending and row.status == "present":
        found.append(f"{where}: marked pending:{row.pending} but present")
    tokens = TOKEN.findall(row.here)
    if not tokens and not (row.here == "—" and row.status.startswith("missing")):
        found.append(f"{where}: `here` names nothing (only a missing item may say —)")
    for token, local in tokens:
        problem = token_problem(token, bool(local), plans, root)
        if problem:
            found.append(f"{where}: `{token}` {problem}")
    return found


def token_problem(token: str, local: bool, plans: Plans, root: Path) -> str | None:
    """Why a name in the `here` column does not hold, or None (also for free text, which is not checked)."""
    if token.startswith("python -m "):
        return _command_problem(token.split()[2:], root)
    if token.startswith("make "):
        target = token.split()[1]
        makefile = (root / "Makefile").read_text()
        return None if re.search(rf"^{re.escape(target)}:", makefile, re.M) else "is not a Makefile target"
    if " " in token:
        return None
    if ("/" in token or token.endswith(FILE_SUFFIXES)) and not token.startswith("/"):
        return None if (root / token.rstrip("/")).exists() else "does not exist in the repository"
    if CAPS.fullmatch(token):
        return _object_problem(token.replace("<STACK>", "DEV"), local, plans, root)
    if "<stack>" in token:
        concrete = token.replace("<stack>", "dev")
        return None if concrete in plans.text else f"({concrete}) is not in the dev plan"
    if RESOURCE.fullmatch(token):
        return None if token in plans.resources else "is not a resource of the dev or account plan"
    return None


def _command_problem(words: list[str], root: Path) -> str | None:
    module = root / words[0].replace(".", "/")
    main = module / "__main__.py" if module.is_dir() else module.with_suffix(".py")
    if not main.is_file():
        return f"runs {words[0]}, which is not a module of the repository"
    sub = next((w for w in words[1:2] if not w.startswith("-")), None)
    if sub and not re.search(rf"\b{re.escape(sub)}\b", main.read_text()):
        return f"names `{sub}`, which {main.relative_to(root)} does not know"
    return None


def _object_problem(name: str, local: bool, plans: Plans, root: Path) -> str | None:
    schema, _, obj = name.rpartition(".")
    if local:
        word = re.compile(rf"\b{re.escape(obj)}\b")
        for tree in LOCAL_TREES:
            if any(word.search(p.read_text(errors="ignore")) for p in (root / tree).rglob("*") if p.is_file()):
                return None
        return f"is marked local only but is in none of {', '.join(LOCAL_TREES)}"
    if schema:
        return None if (schema, obj) in plans.objects else f"is not an object of schema {schema} in the dev plan"
    return None if obj in plans.names else "is not an object of the dev or account plan"


def count_problems(text: str, rows: dict[str, list[Row]]) -> list[str]:
    """The counts table says what the tables hold."""
    m = COUNTS.search(text)
    if not m:
        return ["no <!-- seed-map-counts --> table in the section"]
    want = {seed: _counts(seed_rows) for seed, seed_rows in rows.items()}
    want["all"] = tuple(sum(c[i] for c in want.values()) for i in range(4))
    found = []
    listed = set()
    for line in m.group(1).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        seed = re.match(r"`?([^`]+?)`?(\s*\(.*\))?$", cells[0]).group(1)
        listed.add(seed)
        got = tuple(int(c.replace(",", "")) for c in cells[1:5])
        if seed not in want:
            found.append(f"the counts name {seed}, which has no table")
        elif got != want[seed]:
            found.append(
                f"the counts say {seed} has {got} (items, present, different, missing); its table has {want[seed]}"
            )
    found += [f"the counts leave out {seed}" for seed in want if seed not in listed]
    return found


def _counts(rows: list[Row]) -> tuple[int, int, int, int]:
    by = [sum(1 for r in rows if r.status.split(":")[0] == s) for s in STATUSES]
    return (len(rows), *by)  # type: ignore[return-value]


def problems(readme: str, plans: Plans, root: Path) -> list[str]:
    """Everything wrong with the section: placement, tables, rows, counts."""
    text, first, found = section(readme)
    if not text:
        return found
    rows, parse = tables(text, first)
    found += parse
    found += [f"no table for the seed {seed}" for seed in SEEDS if seed not in rows]
    found += [f"a table for {seed}, which is not a seed" for seed in rows if seed not in SEEDS]
    found += [f"{seed}'s table has no rows" for seed, seed_rows in rows.items() if not seed_rows]
    for seed_rows in rows.values():
        seen: set[str] = set()
        for row in seed_rows:
            if row.item in seen:
                found.append(f"README.md:{row.line}: `{row.item}` is listed twice")
            seen.add(row.item)
            found += row_problems(row, plans, root)
    return found + count_problems(text, rows)


@pytest.fixture(scope="module")
def plans() -> Plans:
    return Plans.load(ROOT)


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_seed_map_holds(readme: str, plans: Plans) -> None:
    found = problems(readme, plans, ROOT)
    assert not found, f"{len(found)} problems in `{SECTION}`:\n" + "\n".join(found)


def test_the_seed_list_is_the_seed_folder() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"{SEEDS_DIR} is not beside this checkout")
    assert sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_file()) == sorted(SEEDS)


def _literal(old: str, new: str) -> tuple[str, str]:
    return re.escape(old), new.replace("\\", "\\\\")


# (fault, pattern, replacement, what the report says): each planted once, inside the section, in rows that
# stay in the map whatever is built later.
PLANTED = [
    ("a bogus path", *_literal("`sql/ingestion/merge.sql`", "`sql/ingestion/no_such_file.sql`"), "not exist"),
    ("a bogus object", *_literal("`GOLD.CUSTOMER_VIEW`", "`GOLD.NO_SUCH_VIEW`"), "not an object of schema GOLD"),
    ("a local name found nowhere", *_literal("`GOLD.CUSTOMER_VIEW`", "`GOLD.NOWHERE` (local only)"), "local only"),
    ("a bogus resource", *_literal("`dashboard-stage`", "`dashboard-nowhere`"), "not a resource"),
    (
        "a bogus subcommand",
        *_literal("`python -m scripts.monitor`", "`python -m scripts.monitor teleport`"),
        "teleport",
    ),
    ("a bogus module", *_literal("`python -m scripts.monitor`", "`python -m scripts.nowhere`"), "not a module"),
    ("a free-form status", *_literal("| present |\n", "| fine |\n"), "is not `present`"),
    ("a missing seed table", *_literal("### `004_31f8a3c722e60ab5.txt`", "### `004_renamed.txt`"), "no table for"),
    ("a present row still pending", *_literal("| present |\n", "| present <!-- pending:x -->|\n"), "but present"),
    ("a section out of place", *_literal(f"\n{FOLLOWED_BY}\n", f"\n## Interlude\n\n{FOLLOWED_BY}\n"), "just before"),
    ("a wrong count", *_literal("| all | ", "| all | 9"), "the counts say all"),
]


@pytest.mark.parametrize(("fault", "pattern", "new", "says"), PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_fault_is_reported(readme: str, plans: Plans, fault: str, pattern: str, new: str, says: str) -> None:
    start = readme.index(SECTION)  # plant inside the section: the same name may be named earlier too
    planted, n = re.subn(pattern, new, readme[start:], count=1)
    assert n == 1, f"cannot plant {fault}: {pattern!r} is not in `{SECTION}`"
    found = problems(readme[:start] + planted, plans, ROOT)
    assert any(says in f for f in found), f"{fault} was not reported: {found}"
