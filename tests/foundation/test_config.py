"""The stack config model: both committed stacks parse, and every bad value names its key."""

from __future__ import annotations

import json

import pytest

from infra.config.reader import ConfigError, parse_config, stack_config

PFX = "retail-data-platform:"


def raw(stack: str) -> dict:
    from infra.plan import read_stack_file

    values, _ = read_stack_file(stack)
    return {k[len(PFX) :]: v for k, v in values.items() if k.startswith(PFX)}


def test_committed_stacks_parse_and_differ():
    dev, prod = stack_config("dev"), stack_config("prod")
    assert dev.environment == "dev" and prod.environment == "prod"
    assert prod.protect and not dev.protect
    assert prod.force_destroy_bucket is False and dev.force_destroy_bucket is True
    assert dev.warehouses.transform.size == "XSMALL" and prod.warehouses.transform.size == "MEDIUM"
    assert prod.resource_monitor.credit_quota > dev.resource_monitor.credit_quota
    assert prod.data_retention_days == 30 and dev.data_retention_days == 1
    assert prod.ingestion.task_enabled and not dev.ingestion.task_enabled
    assert dev.ingestion.task_schedule != prod.ingestion.task_schedule
    assert set(dev.alert_emails) != set(prod.alert_emails)
    assert "0.0.0.0/0" not in prod.allowed_cidrs


def _with(stack: str | dict, key: str, value) -> dict:
    values = raw(stack) if isinstance(stack, str) else dict(stack)
    values[key] = value if isinstance(value, str) else json.dumps(value)
    return values


def _nested(stack: str | dict, key: str, path: list[str], value) -> dict:
    values = raw(stack) if isinstance(stack, str) else dict(stack)
    obj = json.loads(values[key])
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    values[key] = json.dumps(obj)
    return values


@pytest.mark.parametrize(
    ("values", "key", "needle"),
    [
        (lambda: _nested("dev", "warehouses", ["load", "size"], "HUGE"), "warehouses.load.size", "Input should be"),
        (
            lambda: _nested("dev", "warehouses", ["serve", "size"], "LARGE"),
            "(stack config)",
            "larger than maxWarehouseSize",
        ),
        (lambda: _with("dev", "dataRetentionDays", "400"), "dataRetentionDays", "less than or equal to 90"),
        (lambda: _with("dev", "alertEmails", ["not-an-email"]), "alertEmails", "not e-mail addresses"),
        (lambda: _with("dev", "allowedCidrs", ["10.0.0.300/8"]), "allowedCidrs", "is not a CIDR block"),
        (
            lambda: _nested("dev", "serviceUsers", ["app", "publicKey"], "bm90IGEga2V5"),
            "serviceUsers.app.publicKey",
            "RSA public key",
        ),
        (
            lambda: _nested("dev", "serviceUsers", ["loader", "allowedCidrs"], ["0.0.0.0/0"]),
            "serviceUsers.loader.allowedCidrs",
            "whole internet",
        ),
        (lambda: _with("prod", "allowedCidrs", ["0.0.0.0/0"]), "allowedCidrs", "0.0.0.0/0"),
        (lambda: _with("prod", "allowedCidrs", ["203.0.113.0/24"]), "allowedCidrs", "documentation example range"),
        (lambda: _with("dev", "allowedCidrs", ["10.0.0.0/8", "::/0"]), "allowedCidrs", "whole internet"),
        (lambda: _with("prod", "protect", "false"), "(stack config)", "protect must be true"),
        (lambda: _nested("dev", "ingestion", ["taskSchedule"], "nightly"), "ingestion.taskSchedule", "cron"),
        (lambda: _with("dev", "warehousez", "x"), "warehousez", "Extra inputs"),
    ],
)
def test_bad_values_name_the_key(values, key, needle):
    data = values()
    stack = "prod" if data["environment"] == "prod" else "dev"
    with pytest.raises(ConfigError) as e:
        parse_config(data, stack)
    msg = str(e.value)
    assert f"retail-data-platform:{key}" in msg, msg
    assert needle in msg, msg


def test_missing_key_is_named():
    values = raw("dev")
    del values["awsRegion"]
    with pytest.raises(ConfigError, match=r"retail-data-platform:awsRegion: Field required"):
        parse_config(values, "dev")


def test_secret_keys_must_be_secret():
    values = raw("dev")
    values["snowflakePrivateKey"] = "-----BEGIN PRIVATE KEY-----"
    values["postgresPassword"] = "hunter2"
    with pytest.raises(ConfigError) as e:
        parse_config(values, "dev")
    assert "retail-data-platform:snowflakePrivateKey: must be set with `pulumi config set --secret" in str(e.value)
    assert "retail-data-platform:postgresPassword" in str(e.value)
    # the same keys set as secrets are accepted
    ok = raw("dev") | {"snowflakePrivateKey": "[secret]"}
    assert parse_config(ok, "dev", {"snowflakePrivateKey"}).stack == "dev"


def test_program_fails_fast_on_bad_config(tmp_path):
    """The real program, under mocks, stops before declaring anything when config is wrong."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    src = (root / "Pulumi.dev.yaml").read_text().replace("maxWarehouseSize: SMALL", "maxWarehouseSize: TINY")
    (root / "Pulumi.badcfg.yaml").write_text(src)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "infra.plan", "--stack", "badcfg"], cwd=root, capture_output=True, text=True
        )
    finally:
        (root / "Pulumi.badcfg.yaml").unlink()
    assert out.returncode != 0
    assert "retail-data-platform:maxWarehouseSize" in out.stderr


def test_renamed_key_is_still_read_with_a_warning():
    """`spcs` became `api`: a stack file not yet renamed deploys the same, and says what to rename."""
    values = raw("dev")
    values["spcs"] = values.pop("api")
    with pytest.warns(
        FutureWarning, match="retail-data-platform:spcs is deprecated: rename it to retail-data-platform:api"
    ):
        old = parse_config(values, "dev")
    assert old.api == stack_config("dev").api


def test_renamed_key_and_its_new_name_together_are_refused():
    values = raw("dev")
    values["spcs"] = values["api"]
    with pytest.raises(ConfigError, match="retail-data-platform:spcs: renamed to retail-data-platform:api"):
        parse_config(values, "dev")


SLASH_8S = [f"{i}.0.0.0/8" for i in range(256)]


@pytest.mark.parametrize(
    ("stack", "values", "needle"),
    [
        ("dev", lambda: _with("dev", "allowedCidrs", ["0.0.0.0/1", "128.0.0.0/1"]), "open access to the whole IPv4"),
        ("prod", lambda: _with("prod", "allowedCidrs", SLASH_8S), "together open access to the whole IPv4"),
        (  # half the internet here, the other half for CI's runners: the union is what counts
            "dev",
            lambda: _nested(_with("dev", "allowedCidrs", ["0.0.0.0/1"]), "ci", ["runnerCidrs"], ["128.0.0.0/1"]),
            "together allowedCidrs, ci.runnerCidrs, postgres.spcsEgressCidrs open access to the whole IPv4",
        ),
        ("prod", lambda: _with("prod", "allowedCidrs", ["10.10.0.0/16", "8.0.0.0/8"]), "8.0.0.0/8 is a public range"),
        (
            "prod",
            lambda: _with(
                _with("prod", "allowedCidrs", ["10.10.0.0/16", "8.8.8.0/24"]),
                "reviewedPublicCidrs",
                {"8.8.0.0/16": " "},
            ),
            "give the reason",
        ),
    ],
)
def test_network_ranges_are_checked_as_a_union(stack, values, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(values(), stack)
    assert needle in str(e.value), str(e.value)


def test_a_reviewed_public_range_is_accepted_in_prod():
    values = _with(
        _with("prod", "allowedCidrs", ["10.10.0.0/16", "8.8.8.0/24"]),
        "reviewedPublicCidrs",
        {"8.8.8.0/24": "partner egress, reviewed by security 2026-11"},
    )
    assert "8.8.8.0/24" in parse_config(values, "prod").allowed_cidrs


def _spcs(stack: str, cidrs) -> dict:
    return _nested(stack, "postgres", ["spcsEgressCidrs"], cidrs)


@pytest.mark.parametrize(
    ("stack", "values", "needle"),
    [
        ("dev", lambda: _spcs("dev", []), ":postgres.spcsEgressCidrs: List should have at least 1 item"),
        ("dev", lambda: _spcs("dev", ["153.45.150.0/33"]), ":postgres.spcsEgressCidrs: Value error, '153.45.150.0/33'"),
        ("dev", lambda: _spcs("dev", ["0.0.0.0/0"]), ":postgres.spcsEgressCidrs: Value error, 0.0.0.0/0 opens"),
        ("prod", lambda: _spcs("prod", ["153.45.150.0/24"]), "postgres.spcsEgressCidrs: 153.45.150.0/24 is a public"),
        (  # the union again: the API's containers' ranges count with everything else
            "dev",
            lambda: _spcs(_with("dev", "allowedCidrs", ["0.0.0.0/1"]), ["128.0.0.0/1"]),
            "together allowedCidrs, ci.runnerCidrs, postgres.spcsEgressCidrs open access to the whole IPv4",
        ),
    ],
)
def test_spcs_egress_ranges_are_checked_and_named(stack, values, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(values(), stack)
    assert needle in str(e.value), str(e.value)


def test_spcs_egress_ranges_are_required():
    values = raw("dev")
    pg = json.loads(values["postgres"])
    del pg["spcsEgressCidrs"]
    values["postgres"] = json.dumps(pg)
    with pytest.raises(ConfigError, match=r"retail-data-platform:postgres.spcsEgressCidrs: Field required"):
        parse_config(values, "dev")


def test_postgres_ingress_takes_the_runners_and_spcs_without_repeating_a_covered_range():
    prod, dev = stack_config("prod"), stack_config("dev")
    assert prod.postgres_ingress_cidrs == [*prod.allowed_cidrs, *prod.ci.runner_cidrs, *prod.postgres.spcs_egress_cidrs]
    assert "10.20.0.0/16" in prod.postgres_ingress_cidrs and "10.20.0.0/16" not in prod.allowed_cidrs
    # dev's allowedCidrs (10.0.0.0/8) already covers its runners: not listed twice
    assert dev.postgres_ingress_cidrs == [*dev.allowed_cidrs, *dev.postgres.spcs_egress_cidrs]
    reviewed = _with(_spcs("prod", ["153.45.150.0/24"]), "reviewedPublicCidrs", {"153.45.150.0/24": "SPCS egress"})
    assert parse_config(reviewed, "prod").postgres_ingress_cidrs[-1] == "153.45.150.0/24"
