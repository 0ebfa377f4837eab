"""The review stack's workflow: up, the loads, the smoke, destroy and the leftover check, in that order,
each step given only the credential its command logs in with."""

from __future__ import annotations

from tests.test_workflows import SECRET, load_workflow

# The review stack end to end (review-stack.yml): up → loads → smoke; destroy → leftover check.
REVIEW_LOADS = (
    "scripts.ingestion upload",
    "scripts.analytics generate",
    "scripts.cdc all",
    "scripts.recommendations all",
)
LOADER_KEY, TRANSFORMER_KEY = "SNOWFLAKE_LOADER_KEY_PATH", "SNOWFLAKE_TRANSFORMER_KEY_PATH"
# What each step's command logs in as, so the variables it must be given, and no other: the review
# identity's key for the engine and the leftover check, the duties' key files for the loads (each load's
# steps as scripts/<cap>/loads.py's stack target opens them), none for the upload (the AWS role).
REVIEW_NEEDS = {
    "pulumi up": {"SNOWFLAKE_PRIVATE_KEY"},
    "pulumi destroy": {"SNOWFLAKE_PRIVATE_KEY"},
    "scripts.review leftovers": {"SNOWFLAKE_PRIVATE_KEY"},
    "infra.plan --stack": set(),  # the names the leftover check reads back: the offline plan, no credential
    "scripts.ingestion upload": set(),
    "scripts.analytics generate": {LOADER_KEY},
    "scripts.cdc all": {LOADER_KEY, TRANSFORMER_KEY},
    "scripts.recommendations all": {LOADER_KEY, TRANSFORMER_KEY},
    "scripts.review smoke": {TRANSFORMER_KEY},
}
CREDENTIAL_VARIABLES = {"SNOWFLAKE_PRIVATE_KEY", LOADER_KEY, TRANSFORMER_KEY}


def _command(step: dict) -> str | None:
    """Which of REVIEW_NEEDS a step runs (the Pulumi action's command counts as `pulumi <command>`)."""
    text = f"pulumi {step['with'].get('command')}" if "pulumi/actions" in str(step.get("uses")) else step.get("run", "")
    found = [c for c in REVIEW_NEEDS if c in str(text)]
    assert len(found) <= 1, found
    return found[0] if found else None


def _index(steps: list[dict], command: str) -> int:
    return next(i for i, st in enumerate(steps) if _command(st) == command)


def test_the_review_stack_runs_up_loads_smoke_then_destroy_and_the_leftover_check():
    review = load_workflow("review-stack.yml")
    up, destroy = review["jobs"]["up"]["steps"], review["jobs"]["destroy"]["steps"]
    order = [_index(up, c) for c in ("pulumi up", *REVIEW_LOADS, "scripts.review smoke")]
    assert order == sorted(order) and order[-1] == len(up) - 1
    for c in (*REVIEW_LOADS, "scripts.review smoke"):
        assert '--stack "$PR_STACK"' in up[_index(up, c)]["run"], c
    assert "--customers" in up[_index(up, "scripts.recommendations all")]["run"]  # small scale
    assert "--duration" in up[_index(up, "scripts.cdc all")]["run"]
    gone, check = _index(destroy, "pulumi destroy"), _index(destroy, "scripts.review leftovers")
    names = _index(destroy, "infra.plan --stack")
    assert gone < names < check == len(destroy) - 1
    assert "--leftovers --format json" in destroy[names]["run"] and "--expected" in destroy[check]["run"]
    for i in (names, check):  # also after a failed destroy: it lists what is left
        assert destroy[i]["if"] == "${{ !cancelled() }}"
    assert review["env"]["PR_STACK"] == "pr-${{ github.event.pull_request.number }}"


def _credential_faults(doc: dict) -> list[str]:
    """Every credential variable or secret given beyond the step whose command needs it."""
    faults = [f"workflow env: {k}" for k in doc.get("env", {}) if k in CREDENTIAL_VARIABLES]
    faults += [f"workflow env: secret {s}" for s in SECRET.findall(str(doc.get("env", {})))]
    for job_name, job in doc["jobs"].items():
        faults += [f"{job_name} env: {k}" for k in job.get("env", {})]
        for i, step in enumerate(job["steps"]):
            given = set(step.get("env", {})) & CREDENTIAL_VARIABLES
            needed = REVIEW_NEEDS.get(_command(step) or "", set())
            where = f"{job_name} step {i + 1} ({step.get('name') or step.get('uses')})"
            faults += [f"{where} is given {v}" for v in sorted(given - needed)]
            faults += [f"{where} lacks {v}" for v in sorted(needed - given)]
            if SECRET.findall(str(step)) and not given:
                faults.append(f"{where} reads a secret it does not need")
    return faults


def test_each_review_credential_reaches_only_the_step_that_needs_it():
    review = load_workflow("review-stack.yml")
    assert _credential_faults(review) == []
    for job in review["jobs"].values():
        for step in job["steps"]:
            if "SNOWFLAKE_PRIVATE_KEY" in step.get("env", {}):
                assert step["env"]["SNOWFLAKE_PRIVATE_KEY"] == "${{ secrets.SNOWFLAKE_REVIEW_KEY }}"
            for key in (LOADER_KEY, TRANSFORMER_KEY):  # key files made in this run, in the runner's temp dir
                assert (
                    step.get("env", {})
                    .get(key, "${{ runner.temp }}/review-keys/")
                    .startswith("${{ runner.temp }}/review-keys/")
                )


def test_the_credential_check_sees_a_secret_or_key_given_too_widely():
    review = load_workflow("review-stack.yml")
    up = review["jobs"]["up"]
    up["env"] = {"SNOWFLAKE_PRIVATE_KEY": "${{ secrets.SNOWFLAKE_REVIEW_KEY }}"}
    smoke = up["steps"][_index(up["steps"], "scripts.review smoke")]
    smoke["env"][LOADER_KEY] = "${{ runner.temp }}/review-keys/loader.p8"
    cdc = up["steps"][_index(up["steps"], "scripts.cdc all")]
    del cdc["env"][TRANSFORMER_KEY]
    upload = up["steps"][_index(up["steps"], "scripts.ingestion upload")]
    upload["env"] = {"TOKEN": "${{ secrets.SNOWFLAKE_REVIEW_KEY }}"}
    n = {c: _index(up["steps"], c) + 1 for c in ("scripts.review smoke", "scripts.cdc all", "scripts.ingestion upload")}
    assert _credential_faults(review) == [
        "up env: SNOWFLAKE_PRIVATE_KEY",
        f"up step {n['scripts.ingestion upload']} (Load customer files to the landing bucket (AWS role only)) "
        "reads a secret it does not need",
        f"up step {n['scripts.cdc all']} ({cdc['name']}) lacks {TRANSFORMER_KEY}",
        f"up step {n['scripts.review smoke']} ({smoke['name']}) is given {LOADER_KEY}",
    ]


def test_the_review_loads_reach_snowflake_from_the_runners():
    """The loads and the smoke log in as the review stack's LOADER and TRANSFORMER users from CI's runners:
    their network policies (serviceUsers.<duty>.allowedCidrs, default allowedCidrs, of dev's config, which
    the review stack copies) must admit ci.runnerCidrs, or every load is refused at login."""
    import ipaddress

    from infra.config.reader import stack_config

    cfg = stack_config("dev")
    for duty in ("loader", "transformer"):
        allowed = [ipaddress.ip_network(c) for c in getattr(cfg.service_users, duty).allowed_cidrs or cfg.allowed_cidrs]
        for runner in map(ipaddress.ip_network, cfg.ci.runner_cidrs):
            assert any(runner.subnet_of(a) for a in allowed), f"{duty}: {runner} outside {allowed}"
