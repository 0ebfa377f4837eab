"""What every warehouse pipeline (ingestion, analytics, CDC, recommendations) is given: where it runs, who
operates it, where its task errors go, and whether its state is protected. Each pipeline's Args extend it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.naming import Naming
from infra.providers import Providers


@dataclass(kw_only=True)
class PipelineArgs:
    naming: Naming
    providers: Providers
    protect: bool
    database: pulumi.Input[str]
    transform_warehouse: pulumi.Input[str]
    error_integration: pulumi.Input[str]
    transformer_role: pulumi.Input[str]

    def on(self, role: str, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """Options of a child of `parent` on the `role` provider (see `Providers.on`)."""
        return self.providers.on(role, parent, **options)

    def kept(self, parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
        """A SYSADMIN-owned child that holds state: protected where the stack protects."""
        return self.providers.on("sysadmin", parent, protect=self.protect, **options)
