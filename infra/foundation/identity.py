"""Who CI runs as, per environment, declared with the stack so every grant is reviewed in a PR.

- **Preview** (pull requests of this repository, and drift.yml's `pulumi preview --refresh`): a Snowflake
  user and role that can log in and see the stack's objects by the least privilege that shows each and
  reads no data (`PREVIEW_READS`: USAGE on the database and schemas, MONITOR on warehouses, dynamic
  tables, tasks, pipes and alerts, REFERENCES on tables and views, USAGE on file formats and functions;
  on what exists and on what will), never a privilege that writes, reads rows or runs code as the owner; and an AWS role
  GitHub's OIDC token may assume only from the `preview-<stack>` environment, with Get/List/Describe on
  this stack's resources and no `secretsmanager:GetSecretValue`.
- **Deploy**: an AWS role assumable only from the `<stack>` environment, allowed to manage resources
  named after this stack (`rdp-<stack>-*`) and nothing else. The Snowflake deploy user and its admin
  role are the account stack's (infra/account/); the config refuses another stack's user.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_snowflake as snowflake

from infra.ci_roles import boundary, github_role
from infra.foundation.config import CiConfig
from infra.grants import RoleGrants, preview_reads
from infra.naming import Naming, object_ref
from infra.network import Ingress, ingress_policy
from infra.providers import Providers


@dataclass(kw_only=True)
class CiIdentitiesArgs:
    naming: Naming
    providers: Providers
    config: CiConfig
    database: pulumi.Input[str]
    warehouses: dict[str, pulumi.Input[str]]
    schemas: dict[str, pulumi.Input[str]]


class CiIdentities(pulumi.ComponentResource):
    """The preview and deploy identities of this stack."""

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
        self._preview_reads(args)
        self.preview_user = self._user(
            "preview-user", n.sf("PREVIEW"), args.config.preview_public_key, self.preview_role
        )
        aws_opts = args.providers.on("aws", self)
        self.boundary = boundary(f"{name}-aws-boundary", n, n.aws_prefix, acct, aws_opts)
        repo = args.config.github_repository
        self.roles = {
            "preview": github_role(f"{name}-aws-preview", n, repo, f"preview-{n.stack}", acct, aws_opts),
            "deploy": github_role(f"{name}-aws-deploy", n, repo, n.stack, acct, aws_opts, self.boundary),
        }
        self.register_outputs({"roles": {k: v.arn for k, v in self.roles.items()}, "boundary": self.boundary.arn})

    def _preview_reads(self, args: CiIdentitiesArgs) -> None:
        """USAGE on each schema, and PREVIEW_READS on every object of it that exists and that will."""
        preview_reads(self._g, self.preview_role, args.database, args.schemas)

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
