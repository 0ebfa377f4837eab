"""The repository's deployment environments as code: the protections the security model relies on
(required reviewers, `main`-only deploy environments, no admin bypass) are reviewed in PRs and visible in
the plan, instead of living only in the repository's settings page."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_github as github

from infra.account.catalog import github_environments
from infra.account.config import GithubConfig


@dataclass(kw_only=True)
class RepositoryEnvironmentsArgs:
    config: GithubConfig
    stacks: list[str]  # the environment stacks the repository deploys


class RepositoryEnvironments(pulumi.ComponentResource):
    """One GitHub environment per deploy target, preview and review, with its reviewers and branch rules."""

    def __init__(self, name: str, args: RepositoryEnvironmentsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:account:RepositoryEnvironments", name, None, opts)
        cfg = args.config
        owner, repository = cfg.repository.split("/")
        provider = github.Provider(f"{name}-provider", owner=owner, opts=pulumi.ResourceOptions(parent=self))
        on = pulumi.ResourceOptions(parent=self, provider=provider)
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=provider)
        who = cfg.reviewers
        teams = [github.get_team_output(slug=t, summary_only=True, opts=invoke).id.apply(int) for t in who.teams]
        users = [github.get_user_output(username=u, opts=invoke).id.apply(int) for u in who.users]
        reviewers = [github.RepositoryEnvironmentReviewerArgs(teams=teams, users=users)]
        self.environments: dict[str, github.RepositoryEnvironment] = {}
        for env, rules in github_environments(args.stacks).items():
            declared = github.RepositoryEnvironment(
                f"{name}-{env}",
                repository=repository,
                environment=env,
                reviewers=reviewers if rules.reviewers else None,
                prevent_self_review=rules.reviewers,
                can_admins_bypass=False,
                deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                    protected_branches=False, custom_branch_policies=True
                )
                if rules.main_only
                else None,
                opts=on,
            )
            if rules.main_only:
                github.RepositoryEnvironmentDeploymentPolicy(
                    f"{name}-{env}-main",
                    repository=repository,
                    environment=declared.environment,
                    branch_pattern="main",
                    opts=on,
                )
            self.environments[env] = declared
        self.register_outputs({"environments": {k: v.environment for k, v in self.environments.items()}})
