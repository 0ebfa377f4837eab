"""Policy pack entry point: `pulumi preview --policy-pack infra/policy`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from infra.policy import engine
from infra.policy.rules import RESOURCE_RULES, STACK_RULES

# Rules see engine-reported secrets as "[secret]", as in the offline plan (see infra/policy/engine.py).
engine.install()


def describe(rule, name: str) -> str:
    return " ".join((rule.__doc__ or name).split())


PolicyPack(
    name="retail-data-platform",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(
            ResourceValidationPolicy(name=name, description=describe(rule, name), validate=rule)
            for name, rule in RESOURCE_RULES.items()
        ),
        *(
            StackValidationPolicy(name=name, description=describe(rule, name), validate=rule)
            for name, rule in STACK_RULES.items()
        ),
    ],
)
