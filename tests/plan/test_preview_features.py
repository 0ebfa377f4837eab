"""Every preview-feature resource in each plan is enabled on the provider that manages it."""

from __future__ import annotations

import copy

import pytest

from infra.preview import feature_for, missing_preview_flags, preview_features


def test_feature_list_is_read_from_the_installed_provider():
    feats = preview_features()
    assert "snowflake_pipe_resource" in feats and "snowflake_table_resource" in feats
    assert "snowflake_warehouse_resource" not in feats  # stable
    assert feature_for("snowflake:index/procedureSql:ProcedureSql") == "snowflake_procedure_sql_resource"
    assert feature_for("snowflake:index/storageIntegrationAws:StorageIntegrationAws") == (
        "snowflake_storage_integration_aws_resource"
    )


@pytest.mark.parametrize("stack", ["dev", "prod", "account"])
def test_plans_enable_every_preview_feature_they_use(all_plans, stack):
    assert missing_preview_flags(all_plans[stack]) == []


def test_the_account_stack_enables_only_preview_features_the_provider_has():
    from infra.providers import ACCOUNT_PREVIEW_FEATURES

    enabled = {f for features in ACCOUNT_PREVIEW_FEATURES.values() for f in features}
    assert enabled <= set(preview_features())


def test_a_missing_flag_is_reported():
    plan = [
        {
            "type": "pulumi:providers:snowflake",
            "urn": "urn:p",
            "name": "snowflake-sysadmin",
            "inputs": {"previewFeaturesEnabled": ["snowflake_table_resource"]},
            "provider": None,
        },
        {"type": "snowflake:index/pipe:Pipe", "urn": "urn:x", "name": "pipe", "inputs": {}, "provider": "urn:p"},
        {"type": "snowflake:index/table:Table", "urn": "urn:t", "name": "t", "inputs": {}, "provider": "urn:p"},
    ]
    assert missing_preview_flags(plan) == [
        "snowflake:index/pipe:Pipe pipe: snowflake_pipe_resource is not enabled on snowflake-sysadmin"
    ]
    fixed = copy.deepcopy(plan)
    fixed[0]["inputs"]["previewFeaturesEnabled"].append("snowflake_pipe_resource")
    assert missing_preview_flags(fixed) == []
