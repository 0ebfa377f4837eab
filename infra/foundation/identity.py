"""Who CI runs as, per environment, declared with the stack so every grant is reviewed in a PR.

- **Preview** (pull requests of this repository): a Snowflake user and role that can log in and see
  the database and warehouses, nothing else (`pulumi preview` without `--refresh` diffs the program
  against the recorded state, so it reads no object), and an AWS role GitHub's OIDC token may assume
  only from the `preview-<stack>` environment, with Get/List/Describe on this stack's resources and no
  `secretsmanager:GetSecretValue`.
- **Deploy**: an AWS role assumable only from the `<stack>` environment, allowed to manage resources
  named after this stack (`rdp-<stack>-*`) and nothing else. The Snowflake deploy user is the one
  account-admin bootstrap step (README, "Security model"); the config refuses another stack's.
- **Review** (hosted by one stack, `ci.reviewStacks`): the identity per-PR review stacks deploy with,
  able to create account objects but granted nothing of dev or prod (Snowflake cannot scope CREATE by
  name, so it owns only what it creates and the policy pack holds it to `RDP_PR_*` names), and an AWS
  role limited to `rdp-pr-*` resources.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.foundation.config import CiConfig
from infra.grants import RoleGrants
from infra.iam import boundary_name, boundary_policy, ci_policy, github_trust_policy
from infra.naming import Naming, object_ref, review_naming
from infra.network import Ingress, ingress_policy
from infra.providers import Providers

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# What the review identity may create in the account; it is granted nothing of dev's or prod's.
REVIEW_ACCOUNT_PRIVILEGES = [
    "CREATE DATABASE",
    "CREATE WAREHOUSE",
    "CREATE ROLE",
    "CREATE USER",
    "CREATE INTEGRATION",
    "CREATE COMPUTE POOL",
    "CREATE NETWORK POLICY",
]


@dataclass(kw_only=True)
class CiIdentitiesArgs:
    naming: Naming
    providers: Providers
    config: CiConfig
    prefix: str
    database: pulumi.Input[str]
    warehouses: dict[str, pulumi.Input[str]]


class CiIdentities(pulumi.ComponentResource):
    """The preview and deploy identities of this stack, and (where hosted) the review identity."""

    preview_role: snowflake.AccountRole
    roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, args: CiIdentitiesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:identity:CiIdentities", name, None, opts)
        self._name, self._args = name, args
        n, acct = args.naming, args.providers.aws_account_id
        self._sec = args.providers.on("securityadmin", self)
        self._g = g = RoleGrants(name, self._sec)
        _, self._policy = ingress_policy(
            self,
            args.providers,
            args.database,
            Ingress(
                rule=f"{name}-runners",
                policy=f"{name}-runners-policy",
                rule_name=n.sf("CI_INGRESS"),
                policy_name=n.sf("CI_POLICY"),
                cidrs=args.config.runner_cidrs,
                purpose="CI's Snowflake users (ci.runnerCidrs)",
            ),
        )
        self.preview_role = g.role("preview-role", n.sf("PREVIEWER"), "read-only previews of this stack")
        g.grant(
            "preview-database", self.preview_role, ["USAGE"], on_account_object=object_ref("DATABASE", args.database)
        )
        for key, wh in args.warehouses.items():
            g.grant(f"preview-wh-{key}", self.preview_role, ["MONITOR"], on_account_object=object_ref("WAREHOUSE", wh))
        self.preview_user = self._user(
            "preview-user", n.sf("PREVIEW"), args.config.preview_public_key, self.preview_role
        )
        self.boundary = self._boundary("boundary", n, n.aws_prefix, acct)
        self.roles = {
            "preview": self._aws_role("preview", n, f"preview-{n.stack}", n.aws_prefix, acct, None),
            "deploy": self._aws_role("deploy", n, n.stack, n.aws_prefix, acct, self.boundary),
        }
        if args.config.review_stacks:
            self._review(review_naming(args.prefix), acct)
        self.register_outputs({"roles": {k: v.arn for k, v in self.roles.items()}, "boundary": self.boundary.arn})

    def _review(self, r: Naming, acct: pulumi.Input[str]) -> None:
        """Per-PR review stacks' identity: creates its own account objects, sees nothing of dev or prod."""
        role = self._g.role("review-role", r.sf("ADMIN"), "deploys per-PR review stacks (RDP_PR_*) only")
        self._g.grant("review-account", role, REVIEW_ACCOUNT_PRIVILEGES, on_account=True)
        # a review stack's API owner role needs it from the review identity, which must be able to pass it on
        self._g.grant("review-endpoint", role, ["BIND SERVICE ENDPOINT"], on_account=True, with_grant_option=True)
        cfg = self._args.config
        self._user("review-user", r.sf("DEPLOYER"), cfg.review_public_key or "", role)
        review_prefix = Naming(self._args.prefix, "pr").aws_prefix  # rdp-pr: every review stack's names
        boundary = self._boundary("review-boundary", r, review_prefix, acct)
        self.roles["review"] = self._aws_role("review", r, "review", review_prefix, acct, boundary)

    def _boundary(self, key: str, n: Naming, prefix: str, acct: pulumi.Input[str]) -> aws.iam.Policy:
        """The permissions boundary every role of the stack (or of the review stacks) carries."""
        return aws.iam.Policy(
            f"{self._name}-aws-{key}",
            name=boundary_name(n),
            path="/ci/",
            description=f"the most a role of {prefix}-* may do; CI creates roles only with it attached",
            policy=pulumi.Output.from_input(acct).apply(lambda a: boundary_policy(a, prefix)),
            opts=self._args.providers.on("aws", self),
        )

    def _aws_role(
        self,
        key: str,
        n: Naming,
        environment: str,
        prefix: str,
        acct: pulumi.Input[str],
        boundary: aws.iam.Policy | None,
    ) -> aws.iam.Role:
        """A role GitHub's OIDC token assumes only from one environment of the repository; with a
        `boundary` it manages the resources (roles only inside that boundary), without one it reads them."""
        repo = self._args.config.github_repository
        role = aws.iam.Role(
            f"{self._name}-aws-{key}",
            name=n.aws("ci", key),
            description=f"GitHub Actions, environment {environment} of {repo}",
            assume_role_policy=pulumi.Output.from_input(acct).apply(
                lambda a: github_trust_policy(f"arn:aws:iam::{a}:oidc-provider/{GITHUB_OIDC_HOST}", repo, environment)
            ),
            path="/ci/",  # outside the stack's own `role/rdp-<stack>-*`: the deploy role cannot edit itself
            max_session_duration=3600,
            opts=self._args.providers.on("aws", self),
        )
        aws.iam.RolePolicy(
            f"{self._name}-aws-{key}-policy",
            role=role.id,
            policy=pulumi.Output.all(acct, boundary.arn if boundary else "").apply(
                lambda a: ci_policy(a[0], prefix, boundary is not None, a[1])
            ),
            opts=self._args.providers.on("aws", self),
        )
        return role

    def _user(self, suffix: str, physical: str, public_key: str, role: snowflake.AccountRole) -> snowflake.ServiceUser:
        user = snowflake.ServiceUser(
            f"{self._name}-{suffix}",
            name=physical,
            comment="CI identity (key pair in a GitHub environment secret)",
            rsa_public_key=public_key,
            default_role=role.name,
            default_secondary_roles_option="NONE",
            network_policy=self._policy.name,
            opts=self._sec,
        )
        self._g.inherit(f"{suffix}-role", role, to_user=user.name)
        return user
