"""The dashboard as declared, under Pulumi's mocks: the stage, the publish step keyed by the app's digest,
the Streamlit object pointing at what was published, USAGE for ANALYST only, and nothing protected."""

from __future__ import annotations

import shutil

import pytest

from infra.config.reader import ConfigError, own_keys, parse_config, read_stack_file
from infra.dashboard import bundle
from tests.conftest import by_type, one

GRANT = "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"


def _dashboard(plan: list[dict]) -> list[dict]:
    return [r for r in plan if "retail:dashboard:AnalyticsDashboard" in r["urn"]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_streamlit_points_at_the_published_files_on_its_stage(plans, stack):
    plan, db = plans[stack], f'"RDP_{stack.upper()}_RETAIL"'
    stage, publish, app = (one(plan, f"dashboard-{k}") for k in ("stage", "publish", "app"))
    assert (stage["inputs"]["schema"], stage["inputs"]["name"]) == ("GOLD", "DASHBOARD_STAGE")
    assert app["inputs"]["stage"] == f'{db}."GOLD"."DASHBOARD_STAGE"'
    assert (app["inputs"]["directoryLocation"], app["inputs"]["mainFile"]) == (bundle.DIRECTORY, bundle.MAIN_FILE)
    assert app["inputs"]["queryWarehouse"] == f"RDP_{stack.upper()}_SERVE_WH"
    assert app["inputs"]["title"] == "Retail analytics"
    # published before the app (re)points at the files, and again whenever any of them changes
    assert publish["urn"] in app["dependencies"] and stage["urn"] in publish["dependencies"]
    assert publish["inputs"]["triggers"] == [bundle.digest()]
    assert bundle.digest() in app["inputs"]["comment"]
    assert f'publish --stage \'{db}."GOLD"."DASHBOARD_STAGE"\' --directory app' in publish["inputs"]["create"]
    assert publish["inputs"]["environment"]["SNOWFLAKE_ROLE"] == f"RDP_{stack.upper()}_ADMIN"  # the stage's owner
    for r in (stage, app):
        assert r["provider"].endswith("snowflake-sysadmin")
    # stateless: `pulumi destroy` removes the app and its stage in every stack
    assert not any(r["protect"] for r in _dashboard(plan))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_analyst_may_open_the_app(plans, stack):
    plan = plans[stack]
    app = one(plan, "dashboard-app")
    fq = f'"RDP_{stack.upper()}_RETAIL"."GOLD"."ANALYTICS_DASHBOARD"'
    on_app = [g for g in by_type(plan, GRANT) if (g["inputs"].get("onSchemaObject") or {}).get("objectName") == fq]
    assert len(on_app) == 1
    grant = on_app[0]
    assert grant["inputs"]["accountRoleName"] == f"RDP_{stack.upper()}_ANALYST"
    assert grant["inputs"]["privileges"] == ["USAGE"]
    assert grant["inputs"]["onSchemaObject"]["objectType"] == "STREAMLIT"
    assert grant["provider"].endswith("snowflake-securityadmin") and app["urn"] in grant["dependencies"]


def test_the_dashboard_is_built_after_the_tables_it_reads(plans):
    dash = one(plans["dev"], "dashboard")
    assert any("retail:analytics:CommerceAnalytics" in d for d in dash["dependencies"])
    assert any("retail:cdc:OrderChanges" in d for d in dash["dependencies"])


def test_the_digest_follows_every_file_of_the_app(tmp_path, monkeypatch):
    app_dir, sql_dir = tmp_path / "app", tmp_path / "sql"
    shutil.copytree(bundle.APP_DIR, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(bundle.SQL_DIR, sql_dir)
    monkeypatch.setattr(bundle, "APP_DIR", app_dir)
    monkeypatch.setattr(bundle, "SQL_DIR", sql_dir)
    first = bundle.digest()
    assert first == bundle.digest()
    paths = [f.path for f in bundle.files()]
    assert bundle.MAIN_FILE in paths and "environment.yml" in paths and "sql/daily.sql" in paths
    assert bundle.THEME in paths  # the light and dark themes travel with the app
    assert "__init__.py" not in paths
    (sql_dir / "daily.sql").write_text((sql_dir / "daily.sql").read_text() + "\n-- edited\n")
    second = bundle.digest()
    assert second != first
    (sql_dir / "daily.sql").rename(sql_dir / "daily2.sql")  # same bytes, another name
    assert bundle.digest() not in (first, second)
    (app_dir / bundle.MAIN_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"streamlit_app\.py"):
        bundle.files()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"title": "Retail analytics", "warehouse": "bi"}, "dashboard.warehouse"),
        ({"title": "", "warehouse": "serve"}, "dashboard.title"),
        ({"title": "it's", "warehouse": "serve"}, "dashboard.title"),
        ({"title": "Retail", "warehouse": "serve", "ttl": 5}, "dashboard.ttl"),
    ],
)
def test_bad_dashboard_config_names_the_key(value, message):
    values, secrets = own_keys(*read_stack_file("dev"))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config({**values, "dashboard": value}, "dev", secrets)


def test_the_app_declares_a_light_and_a_dark_theme():
    """Both tables present is what makes Streamlit offer Light, Dark and "Use system setting"; a key
    Streamlit does not know would be ignored with only a log line, so each is checked against its options."""
    import tomllib

    from streamlit import config

    theme = tomllib.loads((bundle.APP_DIR / bundle.THEME).read_text())["theme"]
    assert set(theme) == {"light", "dark"}
    for base, options in theme.items():
        assert options, base
        for key in options:
            assert f"theme.{base}.{key}" in config._config_options_template, (base, key)
    assert theme["dark"]["backgroundColor"] == "#1a1a2e"
