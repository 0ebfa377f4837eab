"""The pack's rules by policy name. Each rule is a plain function of pulumi_policy's
ResourceValidationArgs (or StackValidationArgs) and a report_violation callback, so tests call it
directly and the pack's entry point only wires it up.

Prod-ness comes from the stack name and prod limits from the pack's constants (`common.py`); the
policed stack's config can only tighten them.
"""

from __future__ import annotations

from infra.policy.aws_rules import (
    dynamodb_prod_recovery,
    iam_github_trust_pinned,
    iam_no_wildcard_allow,
    iam_trust_external_id,
    s3_encryption,
    s3_no_force_destroy_prod,
    s3_public_access_block,
    s3_versioning_prod,
    sns_topic_encrypted,
)
from infra.policy.cost_rules import account_budgets, monthly_budget
from infra.policy.general import physical_name_prefix, prod_stack_environment, prod_stateful_protected
from infra.policy.secret_inputs import no_secret_literals, secret_inputs_are_secrets
from infra.policy.snowflake_rules import (
    compute_pool_caps,
    network_rule_cidr_width,
    no_builtin_admin_roles,
    postgres_network_policy,
    warehouse_auto_suspend,
    warehouse_resource_monitor,
    warehouse_size_cap,
    warehouse_statement_timeout,
)

RESOURCE_RULES = {
    "warehouse-auto-suspend": warehouse_auto_suspend,
    "warehouse-size-cap": warehouse_size_cap,
    "warehouse-statement-timeout": warehouse_statement_timeout,
    "compute-pool-caps": compute_pool_caps,
    "network-rule-cidr-width": network_rule_cidr_width,
    "postgres-network-policy": postgres_network_policy,
    "no-builtin-admin-roles": no_builtin_admin_roles,
    "prod-stateful-protected": prod_stateful_protected,
    "physical-name-prefix": physical_name_prefix,
    "secret-inputs-are-secrets": secret_inputs_are_secrets,
    "no-secret-literals": no_secret_literals,
    "s3-no-force-destroy-prod": s3_no_force_destroy_prod,
    "dynamodb-prod-recovery": dynamodb_prod_recovery,
    "sns-topic-encrypted": sns_topic_encrypted,
    "iam-no-wildcard-allow": iam_no_wildcard_allow,
    "iam-trust-external-id": iam_trust_external_id,
    "iam-github-trust-pinned": iam_github_trust_pinned,
}
STACK_RULES = {
    "prod-stack-environment": prod_stack_environment,
    "warehouse-resource-monitor": warehouse_resource_monitor,
    "s3-public-access-block": s3_public_access_block,
    "s3-encryption": s3_encryption,
    "s3-versioning-prod": s3_versioning_prod,
    "monthly-budget": monthly_budget,
    "account-budgets": account_budgets,
}
