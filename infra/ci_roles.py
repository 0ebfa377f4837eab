"""The AWS side of a CI identity: a role GitHub's OIDC token assumes from one environment of the repository,
and the permissions boundary every role of a stack carries. Environment stacks declare their preview and
deploy roles with these; the account stack declares the review identity's."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.iam import boundary_name, boundary_policy, ci_policy, github_trust_policy
from infra.naming import Naming

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


def boundary(
    logical: str, n: Naming, prefix: str, acct: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.iam.Policy:
    """The permissions boundary every role of a stack (or of the review stacks) carries."""
    return aws.iam.Policy(
        logical,
        name=boundary_name(n),
        path="/ci/",
        description=f"the most a role of {prefix}-* may do; CI creates roles only with it attached",
        policy=pulumi.Output.from_input(acct).apply(lambda a: boundary_policy(a, prefix)),
        opts=opts,
    )


def github_role(
    logical: str,
    n: Naming,
    repo: str,
    environment: str,
    acct: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    boundary: aws.iam.Policy | None = None,
    scope: str | None = None,
) -> aws.iam.Role:
    """A role GitHub's OIDC token assumes only from one environment of the repository; with a `boundary`
    it manages the resources named `<scope>-*` (default `n.aws_prefix`; roles only inside that boundary),
    without one it reads them. `n.aws("ci", <kind>)` names it, the kind being the logical name's last part."""
    key, prefix = logical.rsplit("-", 1)[1], scope or n.aws_prefix
    role = aws.iam.Role(
        logical,
        name=n.aws("ci", key),
        description=f"GitHub Actions, environment {environment} of {repo}",
        assume_role_policy=pulumi.Output.from_input(acct).apply(
            lambda a: github_trust_policy(f"arn:aws:iam::{a}:oidc-provider/{GITHUB_OIDC_HOST}", repo, environment)
        ),
        path="/ci/",  # outside the stack's own `role/rdp-<stack>-*`: the deploy role cannot edit itself
        max_session_duration=3600,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{logical}-policy",
        role=role.id,
        policy=pulumi.Output.all(acct, boundary.arn if boundary else "").apply(
            lambda a: ci_policy(a[0], prefix, boundary is not None, a[1])
        ),
        opts=opts,
    )
    return role
