"""The Snowflake rules, each with passing and failing hand-made resources (missing properties included).
Dev's limits are the pack's NON_PROD constants tightened by Pulumi.dev.yaml (size SMALL, auto-suspend
300 s); prod's are the pack's PROD constants (LARGE, 600 s)."""

from __future__ import annotations

import pytest
from pulumi_policy import StackValidationArgs

from infra.policy.snowflake_rules import COMPUTE_POOL, EXECUTE, NETWORK_RULE, POSTGRES_INSTANCE, WAREHOUSE
from tests.policy.harness import PROD, check, provider, rargs, res

WH = WAREHOUSE
ADMIN = provider("ACCOUNTADMIN")
SYS = provider("SYSADMIN")
OWN = provider("RDP_DEV_ADMIN")
GRANT_ROLE = "snowflake:index/grantAccountRole:GrantAccountRole"
GRANT_PRIVILEGES = "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
CALL = """CALL "RDP_ACCOUNT_ADMIN"."MONITORS"."ATTACH_RDP_DEV_MONITOR"('RDP_DEV_LOAD_WH')"""
ATTACH = 'ALTER WAREHOUSE "RDP_DEV_LOAD_WH" SET RESOURCE_MONITOR = "RDP_DEV_MONITOR"'
POOL = {"instanceFamily": "CPU_X64_XS", "minNodes": 1, "maxNodes": 1}


def ipv4(*cidrs: str) -> dict:
    return {"type": "IPV4", "mode": "POSTGRES_INGRESS", "valueLists": list(cidrs)}


CASES = [
    # auto-suspend: dev 300 s (its config is stricter than the pack's 600 s), prod 600 s
    ("warehouse-auto-suspend", rargs(WH, {"autoSuspend": 60, "autoResume": "true"}), []),
    ("warehouse-auto-suspend", rargs(WH, {"autoSuspend": 600, "autoResume": "true"}), ["outside 1..300s"]),
    ("warehouse-auto-suspend", rargs(WH, {"autoSuspend": 600}, PROD), []),
    ("warehouse-auto-suspend", rargs(WH, {"autoSuspend": 900}, PROD), ["outside 1..600s"]),
    ("warehouse-auto-suspend", rargs(WH, {"autoResume": "true"}), ["autoSuspend is not set"]),
    ("warehouse-auto-suspend", rargs(WH, {"autoSuspend": 60, "autoResume": "false"}), ["autoResume is off"]),
    # size: dev SMALL (config), prod LARGE (pack)
    ("warehouse-size-cap", rargs(WH, {"warehouseSize": "SMALL"}), []),
    ("warehouse-size-cap", rargs(WH, {"warehouseSize": "LARGE"}), ["exceeds the cap SMALL"]),
    ("warehouse-size-cap", rargs(WH, {"warehouseSize": "LARGE"}, PROD), []),
    ("warehouse-size-cap", rargs(WH, {"warehouseSize": "XLARGE"}, PROD), ["exceeds the cap LARGE"]),
    ("warehouse-size-cap", rargs(WH, {"warehouseSize": "HUGE"}), ["exceeds the cap SMALL"]),
    ("warehouse-size-cap", rargs(WH, {}), ["warehouseSize is not set"]),
    # statement timeout: dev 3600 s, prod 7200 s
    ("warehouse-statement-timeout", rargs(WH, {"statementTimeoutInSeconds": 3600}), []),
    ("warehouse-statement-timeout", rargs(WH, {"statementTimeoutInSeconds": 7200}, PROD), []),
    ("warehouse-statement-timeout", rargs(WH, {"statementTimeoutInSeconds": 7200}), ["outside 1..3600s"]),
    ("warehouse-statement-timeout", rargs(WH, {"statementTimeoutInSeconds": 172800}, PROD), ["outside 1..7200s"]),
    ("warehouse-statement-timeout", rargs(WH, {"statementTimeoutInSeconds": 0}), ["outside 1..3600s"]),
    ("warehouse-statement-timeout", rargs(WH, {}), ["statementTimeoutInSeconds is not set"]),
    # resource monitor on every warehouse (stack rule)
    (
        "warehouse-resource-monitor",
        StackValidationArgs(
            [
                res(WH, {"name": "RDP_DEV_LOAD_WH"}, "wh"),
                res(EXECUTE, {"execute": ATTACH}, "att"),
                res(WH, {"name": "RDP_DEV_X_WH", "resourceMonitor": "M"}, "wh2"),
                res(WH, {"name": "RDP_DEV_SERVE_WH"}, "wh4"),
                res(EXECUTE, {"execute": CALL.replace("LOAD", "SERVE")}, "att4"),
            ],
            {},
        ),
        [],
    ),
    (
        "warehouse-resource-monitor",
        StackValidationArgs(
            [res(WH, {"name": "RDP_DEV_LOAD_WH"}, "wh"), res(EXECUTE, {"execute": ATTACH}, "att"), res(WH, {}, "wh3")],
            {},
        ),
        ["Warehouse wh3: no resource monitor attached"],
    ),
    # review stacks deploy as the review identity, which cannot create or assign monitors
    (
        "warehouse-resource-monitor",
        StackValidationArgs(
            [res(WH, {"name": "RDP_PR_12_LOAD_WH"}, "wh", "urn:pulumi:pr-12::retail-data-platform::")], {}
        ),
        [],
    ),
    # compute pool: dev 2 nodes of CPU_X64_XS/S, prod 4 nodes of CPU_X64_XS/S/M
    ("compute-pool-caps", rargs(COMPUTE_POOL, POOL), []),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "instanceFamily": "CPU_X64_M", "maxNodes": 4}, PROD), []),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "instanceFamily": "GPU_NV_M"}), ["GPU_NV_M is not allowed"]),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "instanceFamily": "CPU_X64_M"}), ["CPU_X64_M is not allowed"]),
    (
        "compute-pool-caps",
        rargs(COMPUTE_POOL, {**POOL, "backupInstanceFamilies": ["HIGHMEM_X64_M"]}),
        ["HIGHMEM_X64_M is not allowed"],
    ),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "maxNodes": 4}), ["maxNodes 4 is outside 1..2"]),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "maxNodes": 8}, PROD), ["maxNodes 8 is outside 1..4"]),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {**POOL, "minNodes": 2}), ["minNodes 2 exceeds maxNodes 1"]),
    ("compute-pool-caps", rargs(COMPUTE_POOL, {"instanceFamily": "CPU_X64_XS"}), ["maxNodes None is outside"]),
    # network rules: never /0; in prod never wider than /8
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("203.0.113.0/24", "198.51.100.16/28"), PROD), []),
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("10.0.0.0/8"), PROD), []),
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("10.0.0.0/7"), PROD), ["10.0.0.0/7 is wider than /8"]),
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("10.0.0.0/7")), []),
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("0.0.0.0/0")), ["0.0.0.0/0 opens it to the whole internet"]),
    ("network-rule-cidr-width", rargs(NETWORK_RULE, ipv4("office")), ["'office' is not an IPv4 CIDR"]),
    (
        "network-rule-cidr-width",
        rargs(NETWORK_RULE, {"type": "HOST_PORT", "mode": "EGRESS", "valueLists": ["h.example:5432"]}),
        [],
    ),
    # the Postgres instance has a network policy
    ("postgres-network-policy", rargs(POSTGRES_INSTANCE, {"networkPolicy": "RDP_DEV_PG_POLICY"}), []),
    ("postgres-network-policy", rargs(POSTGRES_INSTANCE, {"name": "RDP_DEV_PG"}), ["no network policy is attached"]),
    # an environment stack uses no built-in administrative role: neither to log in nor in a grant
    ("no-builtin-admin-roles", rargs("snowflake:index/database:Database", {}, prov=OWN), []),
    ("no-builtin-admin-roles", rargs("snowflake:index/database:Database", {}), []),
    ("no-builtin-admin-roles", rargs(EXECUTE, {"execute": CALL, "revert": "SELECT 1"}, prov=OWN), []),
    (
        "no-builtin-admin-roles",
        rargs("snowflake:index/resourceMonitor:ResourceMonitor", {}, prov=ADMIN),
        ["ResourceMonitor r: managed by a provider logged in as ACCOUNTADMIN"],
    ),
    (
        "no-builtin-admin-roles",
        rargs("snowflake:index/database:Database", {}, prov=SYS),
        ["managed by a provider logged in as SYSADMIN"],
    ),
    (
        "no-builtin-admin-roles",
        rargs(GRANT_ROLE, {"roleName": "RDP_DEV_LOADER", "parentRoleName": "SYSADMIN"}, prov=OWN),
        ["parentRoleName is the built-in SYSADMIN"],
    ),
    (
        "no-builtin-admin-roles",
        rargs(GRANT_PRIVILEGES, {"accountRoleName": "sysadmin", "privileges": ["EXECUTE TASK"]}, prov=OWN),
        ["accountRoleName is the built-in sysadmin"],
    ),
    ("no-builtin-admin-roles", rargs(GRANT_ROLE, {"roleName": "X", "parentRoleName": "RDP_DEV_ADMIN"}, prov=OWN), []),
]


@pytest.mark.parametrize(("name", "args", "violations"), CASES)
def test_rule(name, args, violations):
    check(name, args, violations)
