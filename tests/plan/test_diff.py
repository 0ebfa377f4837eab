"""The offline plan diff (`python -m infra.plan --diff <ref>`): the pure diff on hand-made plans, then
the whole command on a real pair of commits of this program."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from infra import plandiff
from infra.config.reader import SECRET_MARK
from infra.plandiff import REPLACE_ON, diff_plans, forcing_inputs, render_markdown, render_text
from tests import background
from tests.conftest import ROOT, STACKS

STACK_URN = "urn:pulumi:dev::retail-data-platform::pulumi:pulumi:Stack::retail-data-platform-dev"
TABLE = "snowflake:index/table:Table"


def res(name, typ=TABLE, parent=STACK_URN, inputs=None, protect=False, provider=None, **extra) -> dict:
    urn = plandiff.make_urn(STACK_URN, parent, typ, name)
    r = {"urn": urn, "type": typ, "name": name, "parent": parent, "inputs": inputs or {}}
    return r | {"dependencies": [], "protect": protect, "provider": provider} | extra


def table(name, schema="BRONZE", protect=False, **inputs) -> dict:
    return res(name, inputs={"database": "DB", "schema": schema, "name": name.upper(), **inputs}, protect=protect)


def by_name(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["changes"]}


# ---- the pure diff on hand-made plans ----


def test_create_update_delete_and_unchanged():
    old = [table("a"), table("b"), table("gone")]
    new = [table("a"), table("b", comment="x"), table("new")]
    result = diff_plans(old, new)
    changes = by_name(result)
    assert {n: c["action"] for n, c in changes.items()} == {"b": "update", "gone": "delete", "new": "create"}
    assert changes["b"]["keys"] == ["comment"] and changes["b"]["diff"]["comment"] == {"old": None, "new": "x"}
    assert result["unchanged"] == 1
    assert plandiff.summary_line("dev", result) == (
        "dev: 1 to create, 1 to update, 0 to replace, 1 to delete, 1 unchanged"
    )


def test_a_replacement_forcing_input_replaces_and_a_rename_updates():
    old = [table("moved"), table("renamed")]
    new = [table("moved", schema="SILVER"), {**table("renamed"), "inputs": {**table("renamed")["inputs"], "name": "X"}}]
    changes = by_name(diff_plans(old, new))
    assert changes["moved"]["action"] == "replace" and changes["moved"]["forced"] == ["schema"]
    assert changes["moved"]["reason"] == "forced by schema"
    assert changes["renamed"]["action"] == "update"  # ALTER TABLE … RENAME TO


def test_protected_delete_and_replace_stand_out():
    old = [table("kept", protect=True), table("dropped", protect=True), table("moved", protect=True)]
    new = [table("kept", protect=True, comment="c"), table("moved", schema="GOLD", protect=True)]
    result = diff_plans(old, new)
    text = render_text({"prod": result}, "main")
    flagged = {line.split()[3] for line in text.splitlines() if "!! protected" in line}
    assert flagged == {"dropped", "moved"}
    assert "[protect]" in next(line for line in text.splitlines() if " kept" in line)
    assert text.count("‼️") == 0 and render_markdown({"prod": result}, "main").count("‼️ **protected**") == 2


def test_an_alias_turns_delete_and_create_into_an_update():
    """A component whose type changed declares the old type; its child inherits the alias."""
    old_parent = res("landing", typ="retail:landing:LandingBucket")
    old_child = res("landing-bucket", typ="aws:s3/bucket:Bucket", parent=old_parent["urn"], inputs={"bucket": "b"})
    alias = [{"spec": {"parentUrn": "", "type": "retail:landing:LandingBucket"}}]
    parent = res("landing", typ="retail:ingestion:LandingBucket", aliases=alias)
    child = res("landing-bucket", typ="aws:s3/bucket:Bucket", parent=parent["urn"], inputs={"bucket": "b"})
    result = diff_plans([old_parent, old_child], [parent, child])
    assert [c["action"] for c in result["changes"]] == ["update", "update"]
    assert {c["previousUrn"] for c in result["changes"]} == {old_parent["urn"], old_child["urn"]}
    assert "aliased from retail:landing:LandingBucket landing" in render_text({"dev": result}, "main")
    # without the alias both get new URNs: Pulumi would create them anew and delete the old ones
    parent.pop("aliases")
    reasons = {
        c["name"]: (c["action"], c["reason"]) for c in diff_plans([old_parent, old_child], [parent, child])["changes"]
    }
    assert reasons == {
        "landing": ("replace", "type retail:landing:LandingBucket → retail:ingestion:LandingBucket"),
        "landing-bucket": ("replace", "new URN without an alias"),
    }


def test_a_renamed_logical_name_with_an_alias_is_an_update():
    old = [table("old-name")]
    new = [{**table("new-name"), "inputs": table("old-name")["inputs"], "aliases": [{"spec": {"name": "old-name"}}]}]
    (change,) = diff_plans(old, new)["changes"]
    assert change["action"] == "update" and change["keys"] == [] and change["previousUrn"] == old[0]["urn"]


def test_a_type_change_without_alias_is_a_replace():
    old = [res("thing", typ="aws:s3/bucketV2:BucketV2", inputs={"bucket": "b"}, protect=True)]
    new = [res("thing", typ="aws:s3/bucket:Bucket", inputs={"bucket": "b"})]
    (change,) = diff_plans(old, new)["changes"]
    assert change["action"] == "replace" and change["protect"]
    assert change["reason"] == "type aws:s3/bucketV2:BucketV2 → aws:s3/bucket:Bucket"


def test_replace_with_and_provider_changes_replace():
    stage = table("stage")
    pipe = res("pipe", typ="snowflake:index/pipe:Pipe", inputs={"copyStatement": "c"}, replaceWith=[stage["urn"]])
    other = res("other", inputs={"database": "DB", "schema": "S"}, provider="urn:p1")
    new_other = {**other, "provider": "urn:p2"}
    result = diff_plans([stage, pipe, other], [table("stage", schema="GOLD"), pipe, new_other])
    changes = by_name(result)
    assert changes["pipe"]["action"] == "replace" and changes["pipe"]["reason"] == "replaceWith stage"
    assert changes["other"]["reason"] == "provider changed"
    assert result["unchanged"] == 0


def test_secrets_stay_masked():
    old = [res("role", typ="postgresql:index/role:Role", inputs={"password": "hunter2", "key": SECRET_MARK})]
    new = [res("role", typ="postgresql:index/role:Role", inputs={"password": "hunter3", "key": "plain-now"})]
    result = diff_plans(old, new)
    (change,) = result["changes"]
    assert change["diff"]["password"] == {"old": SECRET_MARK, "new": SECRET_MARK}
    assert change["diff"]["key"]["old"] == SECRET_MARK
    shown = render_text({"dev": result}, "main") + render_markdown({"dev": result}, "main")
    shown += plandiff.render_json({"dev": result}, "main")
    assert "hunter" not in shown


def test_long_values_are_cut_around_their_first_difference():
    old, new = "SELECT " + "a, " * 50 + "b FROM t", "SELECT " + "a, " * 50 + "c FROM t"
    a, b = plandiff.shorten_pair(old, new, width=40)
    assert a.startswith("…") and "b FROM" in a and "c FROM" in b and len(a) <= 42
    assert plandiff.shorten_pair(1, 2) == ("1", "2")


def test_markdown_keeps_to_its_budget_and_ends_with_the_summaries():
    result = diff_plans([], [table(f"t{i:03}", comment="x" * 40) for i in range(300)])
    md = render_markdown({"dev": result, "prod": result}, "main", budget=8000)
    assert md.startswith(plandiff.MARKER) and len(md) < 10000 and "more (`python -m infra.plan --diff`" in md
    assert md.splitlines()[-2:] == [f"**{plandiff.summary_line(s, result)}**  " for s in ("dev", "prod")]


def test_the_replacement_table_covers_every_type_the_program_declares():
    snapshots = ROOT / "tests" / "snapshots"
    types = {r["type"] for s in STACKS for r in json.loads((snapshots / f"plan-{s}.json").read_text())}
    custom = {t for t in types if not t.startswith(("retail:", "pulumi:providers:"))}
    assert custom - REPLACE_ON.keys() == set(), "decide which inputs force a replacement of these types"
    assert "bucket" in forcing_inputs("aws:s3/bucket:Bucket")
    assert {"name", "hashKey"} <= set(forcing_inputs("aws:dynamodb/table:Table"))
    assert {"database", "schema"} <= set(forcing_inputs("snowflake:index/pipe:Pipe"))
    assert forcing_inputs("snowflake:index/warehouse:Warehouse") == ()


# ---- the command on a real pair of commits ----


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@x"
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: update this test's edit"
    path.write_text(text.replace(old, new, 1))


def make_repo(repo: Path) -> Path:
    """This program at HEAD (with the diff tool of the working tree), then a commit that changes it."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repo, filter="data")
    for module in ("infra/plan.py", "infra/plandiff.py"):
        shutil.copy(ROOT / module, repo / module)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _edit(repo / "Pulumi.dev.yaml", "load: {size: XSMALL,", "load: {size: SMALL,")  # an input
    _edit(
        repo / "Pulumi.dev.yaml", "- data-platform-dev@example.com\n", "- data-platform-dev@example.com\n    - b@x.io\n"
    )
    _edit(repo / "Pulumi.prod.yaml", "    - retail-analytics@example.com\n", "")  # one subscription fewer
    _edit(repo / "infra/serving/dynamodb.py", '"product-recommendations"', '"product-recs"')  # a physical name
    alerts = repo / "infra/foundation/alerts.py"  # a logical rename that carries its alias
    _edit(alerts, 'f"{name}-publish",', 'f"{name}-publish-policy",')
    aliased = (
        'pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-publish")]))'
    )
    _edit(
        alerts,
        "arn})\n            ),\n            opts=on_aws,",
        f"arn}})\n            ),\n            opts={aliased},",
    )
    _git(repo, "commit", "-q", "-am", "change")
    _git(repo, "checkout", "-q", "-b", "broken")
    (repo / "Pulumi.qa.yaml").write_text((repo / "Pulumi.dev.yaml").read_text().replace("size: SMALL", "size: HUGE"))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "a stack whose config is wrong")
    _git(repo, "checkout", "-q", "main")
    return repo


def run(repo: Path, *args: str, tmp: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"TMPDIR": str(tmp)} if tmp else {})}
    cmd = [sys.executable, "-m", "infra.plan", *args]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def repo() -> Path:
    """The repository `make_repo` made, in which CHANGED ran (ahead of the tests, see tests/background.py)."""
    return background.cwd(CHANGED)


@pytest.fixture(scope="module")
def changed(repo) -> dict:
    out = background.result(CHANGED)  # run(repo, "--diff", "HEAD~1", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_each_real_change_is_classified(changed):
    dev, prod = (by_name({"changes": changed["stacks"][s]["changes"]}) for s in ("dev", "prod"))
    assert dev["foundation-wh-load"]["action"] == "update"
    assert dev["foundation-wh-load"]["diff"]["warehouseSize"] == {"old": "XSMALL", "new": "SMALL"}
    assert dev["alerts-email-1"]["action"] == "create"
    assert prod["alerts-email-1"]["action"] == "delete" and "alerts-email-0" not in prod
    for stack, changes in (("dev", dev), ("prod", prod)):
        table = changes["dynamodb-table"]
        assert table["action"] == "replace" and table["forced"] == ["name"], stack
        assert table["diff"]["name"]["new"] == f"rdp-{stack}-product-recs"
        assert table["protect"] == (stack == "prod")
        policy = changes["alerts-publish-policy"]
        assert policy["action"] == "update" and policy["previousUrn"].endswith("::alerts-publish"), stack
        assert "alerts-publish" not in changes
    # dev's load warehouse XSMALL → SMALL at dev's share 0.02 and $3 a credit: min +730 * 0.02 * 1 * $3, max
    # +730 * 1 * $3; the stack's max stays at its monitor's cap, its min reaches it: 131.40 + 43.80 → 165.00.
    assert dev["foundation-wh-load"]["monthly"] == {"min": 43.8, "max": 2190.0}
    assert changed["stacks"]["dev"]["cost"]["change"] == {"min": 33.6, "max": 0.0}
    summary = changed["stacks"]["dev"]["summary"]
    assert summary["create"] == 1 and summary["delete"] == 0 and summary["unchanged"] > 250


def test_the_real_diff_reads_well(changed):
    results = {
        s: {"changes": v["changes"], "unchanged": v["summary"]["unchanged"]} for s, v in changed["stacks"].items()
    }
    text = render_text(results, changed["base"])
    line = next(ln for ln in text.splitlines() if "aws:dynamodb/table:Table" in ln and "!! protected" in ln)
    assert line.split()[:2] == ["+-", "replace"]
    assert 'warehouseSize: "XSMALL" → "SMALL"' in text
    assert text.splitlines()[-2].startswith("dev: 1 to create,") and text.splitlines()[-1].startswith(
        "prod: 0 to create,"
    )
    assert "‼️ **protected**" in render_markdown(results, changed["base"])


def test_an_identical_pair_reports_no_changes():
    out = background.result(IDENTICAL)  # run(repo, "--diff", "HEAD", "--stack", "dev", tmp=IDENTICAL_TMP)
    assert out.returncode == 0, out.stderr
    assert "no changes" in out.stdout
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("dev: 0 to create, 0 to update, 0 to replace, 0 to delete, ") and last.endswith(" unchanged")
    assert list(IDENTICAL_TMP.iterdir()) == [], "the exported tree is removed"


def test_a_bad_ref_is_one_error_line(repo):
    out = run(repo, "--diff", "no-such-ref")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [f"error: bad git ref 'no-such-ref': not a commit in {repo}"]


def test_a_failing_plan_is_one_error_line(repo):
    out = run(repo, "--diff", "broken", "--stack", "qa")
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("error: the plan of stack qa at broken failed: ConfigError")
    assert "warehouses.load.size" in line


CHANGED = background.command(
    "plan-diff-changed",
    [sys.executable, "-m", "infra.plan", "--diff", "HEAD~1", "--format", "json"],
    test_each_real_change_is_classified,
    test_the_real_diff_reads_well,
    prepare=lambda: make_repo(background.tmpdir() / "repo"),
    timeout=600,
)
IDENTICAL_TMP = background.tmpdir()  # its TMPDIR: the exported tree goes there, and must be gone after
IDENTICAL = background.command(
    "plan-diff-identical",
    [sys.executable, "-m", "infra.plan", "--diff", "HEAD", "--stack", "dev"],
    test_an_identical_pair_reports_no_changes,
    env={"TMPDIR": str(IDENTICAL_TMP)},
    prepare=lambda: background.cwd(CHANGED),  # the same repository, at main
    timeout=600,
)
