"""Under Pulumi's mocks: the recommendations data plane and the serving stores as declared."""

from __future__ import annotations

import ast

import pytest

from infra.config.reader import stack_config
from infra.mocks import SECRET_MARK, PlanMocks
from infra.recommendations import catalog
from infra.sqlfiles import read_sql
from services.features import pair
from tests.conftest import by_type, one


def _host_for(instance_name: str) -> str:
    out = PlanMocks()._snowflake_outputs("snowflake:index/postgresInstance:PostgresInstance", instance_name, {})
    return out["describeOutputs"][0]["host"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_egress_rule_value_is_the_instance_host_output(plans, stack):
    plan = plans[stack]
    instance = one(plan, "postgres-instance")
    egress = one(plan, "postgres-egress-rule")
    assert egress["inputs"]["type"] == "HOST_PORT" and egress["inputs"]["mode"] == "EGRESS"
    assert egress["inputs"]["valueLists"] == [f"{_host_for(instance['inputs']['name'])}:5432"]
    # it was wired from the instance, not pasted: the instance is one of its dependencies
    assert instance["urn"] in egress["dependencies"]
    assert one(plan, "serving-provider")["inputs"]["host"] == _host_for(instance["inputs"]["name"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ingress_cidrs_come_from_config(plans, stack):
    rule = one(plans[stack], "postgres-ingress-rule")["inputs"]
    assert rule["mode"] == "POSTGRES_INGRESS" and rule["type"] == "IPV4"
    cfg = stack_config(stack)  # allowedCidrs, CI's runners (the postgresql provider) and SPCS (the API)
    assert rule["valueLists"] == cfg.postgres_ingress_cidrs
    assert set(cfg.allowed_cidrs) | set(cfg.postgres.spcs_egress_cidrs) <= set(rule["valueLists"])
    policy = one(plans[stack], "postgres-policy")["inputs"]
    assert policy["allowedNetworkRuleLists"] == [
        f'"RDP_{stack.upper()}_RETAIL"."BRONZE"."RDP_{stack.upper()}_PG_INGRESS"'
    ]
    assert one(plans[stack], "postgres-instance")["inputs"]["networkPolicy"] == f"RDP_{stack.upper()}_PG_POLICY"


def test_prod_ingress_is_not_open_to_the_world(plans):
    assert "0.0.0.0/0" not in one(plans["prod"], "postgres-ingress-rule")["inputs"]["valueLists"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_passwords_stay_secret_in_every_consumer(plans, stack):
    plan = plans[stack]
    assert one(plan, "postgres-admin-secret")["inputs"]["secretString"] == SECRET_MARK
    assert one(plan, "postgres-app-secret")["inputs"]["secretString"] == SECRET_MARK
    assert one(plan, "serving-provider")["inputs"]["password"] == SECRET_MARK
    for role in by_type(plan, "postgresql:index/role:Role"):
        assert role["inputs"]["password"] == SECRET_MARK, role["name"]
    cred = one(plan, "postgres-admin-credential")
    assert cred["type"] == "pulumi-python:dynamic:Resource"
    assert one(plan, "postgres-instance")["urn"] in cred["dependencies"]
    # no mock password value leaks into any recorded input
    assert "mock-admin-" not in str(plan) and "mock-" not in str([r["inputs"] for r in plan])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_external_access_integration_lists_egress_rule_and_secrets(plans, stack):
    eai = one(plans[stack], "postgres-external-access")
    db = f'"RDP_{stack.upper()}_RETAIL"."BRONZE"'
    assert eai["inputs"]["allowedNetworkRules"] == [f'{db}."RDP_{stack.upper()}_PG_EGRESS_RULE"']
    # what the API mounts only (its password, the public root CA): the Postgres admin's stays out of reach
    assert eai["inputs"]["allowedAuthenticationSecrets"]["secrets"] == [f'{db}."PG_APP_PASSWORD"', f'{db}."PG_ROOT_CA"']
    assert eai["inputs"]["enabled"] is True
    assert eai["provider"].endswith("snowflake-accountadmin")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_dynamodb_key_schema(plans, stack):
    t = one(plans[stack], "dynamodb-table")["inputs"]
    assert t["name"] == f"rdp-{stack}-product-recommendations"
    assert t["hashKey"] == "user_id" and "rangeKey" not in t
    assert t["attributes"] == [{"name": "user_id", "type": "N"}]
    assert t["billingMode"] == "PAY_PER_REQUEST"
    assert t["serverSideEncryption"]["enabled"] is True


def test_prod_protections_on_and_dev_off(plans):
    prod, dev = plans["prod"], plans["dev"]
    t = one(prod, "dynamodb-table")
    assert t["inputs"]["pointInTimeRecovery"]["enabled"] is True
    assert t["inputs"]["deletionProtectionEnabled"] is True
    stateful = ["dynamodb-table", "postgres-instance", "serving-schema", "recommendations-event-stream"]
    for name in stateful:
        assert one(prod, name)["protect"] is True, name
        assert one(dev, name)["protect"] is False, name
    assert one(prod, "postgres-instance")["inputs"]["highAvailability"] == "true"
    assert one(dev, "dynamodb-table")["inputs"]["deletionProtectionEnabled"] is False


def test_instance_sizing_per_stack(plans):
    for stack in ("dev", "prod"):
        cfg = stack_config(stack).postgres
        i = one(plans[stack], "postgres-instance")["inputs"]
        assert (i["computeFamily"], i["storageSizeGb"], i["postgresVersion"]) == (
            cfg.compute_family,
            cfg.storage_gb,
            cfg.version,
        )
        assert i["authenticationAuthority"] == "POSTGRES"


def test_udtfs_run_the_handler_file_and_handlers_exist(plans):
    code = read_sql("recommendations/udtf/generate.py")
    classes = {n.name for n in ast.parse(code).body if isinstance(n, ast.ClassDef)}
    fns = {r["inputs"]["name"]: r["inputs"] for r in by_type(plans["prod"], "/functionPython:FunctionPython")}
    for name, (handler, args, cols, _pk) in catalog.UDTFS.items():
        f = fns[name]
        assert f["functionDefinition"] == code
        assert f["handler"] == handler and handler in classes
        assert f["returnType"] == catalog.udtf_return_type(cols)
        assert [a["argName"] for a in f["arguments"]] == [a for a, _ in args]


def test_customer_360_and_tasks_use_the_sql_files(plans):
    prod = plans["prod"]
    dt = one(prod, "recommendations-customer-360")["inputs"]
    assert dt["query"] == catalog.customer_360_sql("RDP_PROD_RETAIL")
    assert dt["targetLag"] == {"maximumDuration": stack_config("prod").recommendations.customer360_target_lag}
    recs = one(prod, "recommendations-refresh-recommendations")["inputs"]
    assert recs["sqlStatement"] == catalog.refresh_recommendations_sql("RDP_PROD_RETAIL").strip()
    assert recs["schedule"] == {"usingCron": "0 3 * * * UTC"}
    prop = one(prod, "recommendations-refresh-propensity")["inputs"]
    assert "INSERT OVERWRITE INTO" in prop["sqlStatement"] and "PREDICT_PROPENSITY" in prop["sqlStatement"]
    assert (
        prop["started"] is True
        and one(plans["dev"], "recommendations-refresh-propensity")["inputs"]["started"] is False
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ranking_signal_views_run_the_sql_file_as_of_now(plans, stack):
    """The views the serving sync reads are the queries training runs at its cut-offs."""
    db = f"RDP_{stack.upper()}_RETAIL"
    expected = catalog.pair_signals_sql(db, "CURRENT_TIMESTAMP()")
    for view in catalog.PAIR_SIGNALS:
        v = one(plans[stack], f"recommendations-{view.lower().replace('_', '-')}")
        assert v["inputs"]["schema"] == "FEATURE_STORE" and v["inputs"]["name"] == view
        assert v["inputs"]["statement"] == expected[view]
        for table in ("event-stream", "product-catalog"):
            assert one(plans[stack], f"recommendations-{table}")["urn"] in v["dependencies"], (view, table)
    recs = one(plans[stack], "recommendations-refresh-recommendations")
    assert one(plans[stack], "recommendations-inventory")["urn"] in recs["dependencies"]  # stock at home
    assert catalog.q(db, "INVENTORY") in recs["inputs"]["sqlStatement"]
    for udtf in by_type(plans[stack], "/functionPython:FunctionPython"):
        if udtf["inputs"]["name"].startswith("GENERATE_"):  # the handler file imports numpy
            assert "numpy" in udtf["inputs"]["packages"], udtf["name"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_candidates_view_is_the_retrieval_training_runs_with_the_apis_zip_regions(plans, stack):
    """The view the sync copies to serving.customer_candidates is the retrieval's query as of now, over
    the tables it reads, and its home region maps a ZIP code as the API does."""
    db = f"RDP_{stack.upper()}_RETAIL"
    v = one(plans[stack], "recommendations-customer-candidates")
    assert v["inputs"]["schema"] == "FEATURE_STORE" and v["inputs"]["name"] == "CUSTOMER_CANDIDATES"
    assert v["inputs"]["statement"] == catalog.candidates_sql(db, "CURRENT_TIMESTAMP()")
    for table in ("event-stream", "product-catalog", "customers", "inventory"):
        assert one(plans[stack], f"recommendations-{table}")["urn"] in v["dependencies"], table
    # the component (so the view) waits for the grant that makes future views readable by the sync's role
    grant = one(plans[stack], "access-ar-feature-store-r-future-views")["urn"]
    assert grant in one(plans[stack], "recommendations")["dependencies"]
    assert catalog.ZIP_REGIONS == pair.ZIP_REGIONS
    assert catalog.home_region_sql("c.ZIP_CODE") == pair.region_sql("c.ZIP_CODE")


def test_destroy_order_follows_dependencies(plans):
    plan = plans["prod"]
    eai = one(plan, "postgres-external-access")
    for dep in ("postgres-egress-rule", "postgres-app-secret"):
        assert one(plan, dep)["urn"] in eai["dependencies"], dep
    assert one(plan, "postgres-policy")["urn"] in one(plan, "postgres-instance")["dependencies"]
    schema = one(plan, "serving-schema")
    assert one(plan, "serving-loader-role")["urn"] in schema["dependencies"]
    for g in by_type(plan, "postgresql:index/grant:Grant"):
        assert schema["urn"] in g["dependencies"]


def test_config_refuses_open_ingress_and_unprotected_dynamodb_in_prod():
    from infra.config.reader import ConfigError
    from infra.plan import read_stack_file

    values, _secret = read_stack_file("prod")
    raw = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("retail-data-platform:")}
    import json

    from infra.config.reader import parse_config

    with pytest.raises(ConfigError, match="allowedCidrs"):
        parse_config({**raw, "allowedCidrs": ["0.0.0.0/0"]}, "prod", set())
    with pytest.raises(ConfigError, match=r"dynamodb\.pointInTimeRecovery"):
        parse_config({**raw, "dynamodb": {"pointInTimeRecovery": False, "deletionProtection": True}}, "prod", set())
    with pytest.raises(ConfigError, match=r"recommendations\.customer360TargetLag"):
        bad = {**json.loads(raw["recommendations"]), "customer360TargetLag": "soon"}
        parse_config({**raw, "recommendations": bad}, "prod", set())


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_postgres_roles_bound_their_queries_and_idle_transactions(plans, stack):
    """A long BI query or an idle BI transaction cannot hold the serving tables' locks for long."""
    limits = {
        r["name"]: (r["inputs"].get("statementTimeout"), r["inputs"].get("idleInTransactionSessionTimeout"))
        for r in by_type(plans[stack], "postgresql:index/role:Role")
    }
    assert limits == {
        "serving-app-role": (2000, 5000),
        "serving-loader-role": (0, 600_000),
        "serving-bi-role": (60_000, 60_000),
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_step_may_call_the_functions_and_write_the_tables_it_uses(plans, stack):
    """LOADER (generate) calls the GENERATE_* functions and writes BRONZE; TRANSFORMER (train) calls
    PREDICT_PROPENSITY; every grant names its resource, so it is made after it."""
    plan, role = plans[stack], lambda fr: f"RDP_{stack.upper()}_{fr}"
    for key in catalog.UDTFS:
        g = one(plan, f"recommendations-loader-{key.lower().replace('_', '-')}")
        assert (g["inputs"]["accountRoleName"], g["inputs"]["privileges"]) == (role("LOADER"), ["USAGE"])
        assert g["inputs"]["onSchemaObject"]["objectType"] == "FUNCTION"
        assert one(plan, f"recommendations-{key.lower().replace('_', '-')}")["urn"] in g["dependencies"]
    g = one(plan, "recommendations-transformer-predict-propensity")
    assert (g["inputs"]["accountRoleName"], g["inputs"]["privileges"]) == (role("TRANSFORMER"), ["USAGE"])
    assert one(plan, "recommendations-predict-propensity")["urn"] in g["dependencies"]
    for duty, tables in catalog.WRITES.items():
        prefix = "loader" if duty == "LOADER" else "transformer"
        for key, privileges in tables.items():
            g = one(plan, f"recommendations-{prefix}-table-{key.lower().replace('_', '-')}")
            assert (g["inputs"]["accountRoleName"], g["inputs"]["privileges"]) == (role(duty), privileges)
            assert one(plan, f"recommendations-{key.lower().replace('_', '-')}")["urn"] in g["dependencies"]
