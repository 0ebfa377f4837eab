"""Who may connect from where: an IPv4 ingress rule and the network policy that allows only it, the
pair every Snowflake user and the Postgres instance of the platform carry."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.providers import Providers

# The platform's network rules sit in BRONZE, beside the other raw-side integrations.
NETWORK_RULE_SCHEMA = "BRONZE"


@dataclass(frozen=True, kw_only=True)
class Ingress:
    """Logical and physical names of one rule/policy pair, what it lets in, and why."""

    rule: str  # logical name of the rule (the policy's is `policy`)
    policy: str
    rule_name: str  # physical names
    policy_name: str
    cidrs: list[str]
    purpose: str
    mode: str = "INGRESS"  # POSTGRES_INGRESS for a Postgres instance


def ingress_policy(
    parent: pulumi.Resource, providers: Providers, database: pulumi.Input[str], ingress: Ingress
) -> tuple[snowflake.NetworkRule, snowflake.NetworkPolicy]:
    """The rule (a schema object, SYSADMIN's) and the policy (SECURITYADMIN's) that lists only it."""
    rule = snowflake.NetworkRule(
        ingress.rule,
        database=database,
        schema=NETWORK_RULE_SCHEMA,
        name=ingress.rule_name,
        type="IPV4",
        mode=ingress.mode,
        value_lists=ingress.cidrs,
        comment=f"who may connect: {ingress.purpose}",
        opts=providers.on("sysadmin", parent),
    )
    policy = snowflake.NetworkPolicy(
        ingress.policy,
        name=ingress.policy_name,
        allowed_network_rule_lists=[rule.fully_qualified_name],
        comment=f"attached to {ingress.purpose}",
        opts=providers.on("securityadmin", parent),
    )
    return rule, policy
