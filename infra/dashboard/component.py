"""The analytics dashboard in Snowflake: an internal stage holding the app, the step that publishes the
app's files to it during `pulumi up`, the Streamlit object and its USAGE grant to ANALYST.

Publishing is a `command.local.Command` whose trigger is the bundle's digest: editing the app or one
of its queries shows as a replaced publish step in the preview diff, and `up` uploads the files
before the Streamlit object (re)points at them. `pulumi destroy` drops the app and its stage (the app
keeps no state, so neither is protected).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_snowflake as snowflake

from infra.dashboard import bundle
from infra.dashboard.catalog import CATALOG
from infra.dashboard.config import DashboardConfig
from infra.foundation.config import SnowflakeConnection
from infra.grants import RoleGrants
from infra.providers import Providers

PUBLISH = ".venv/bin/python -m scripts.dashboard publish --stage '{stage}' --directory {directory}"


@dataclass(kw_only=True)
class AnalyticsDashboardArgs:
    providers: Providers
    config: DashboardConfig
    connection: SnowflakeConnection
    database: pulumi.Input[str]
    query_warehouse: pulumi.Input[str]
    analyst_role: pulumi.Input[str]
    # The deploy user's key when it is stack config; without it the publish step, like the providers,
    # reads SNOWFLAKE_PRIVATE_KEY from the environment.
    private_key: pulumi.Input[str] | None = None


class AnalyticsDashboard(pulumi.ComponentResource):
    """Streamlit in Snowflake over the star schema and CDC monitoring; ANALYST may open it."""

    stage: snowflake.StageInternal
    publish: command.local.Command
    app: snowflake.Streamlit

    def __init__(self, name: str, args: AnalyticsDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:dashboard:AnalyticsDashboard", name, None, opts)
        prov = args.providers
        db = pulumi.Output.from_input(args.database)
        self.stage = snowflake.StageInternal(
            f"{name}-stage",
            database=db,
            schema=CATALOG.schema("stage"),
            name=CATALOG.name("stage"),
            comment="files of the analytics dashboard, published from services/dashboard and sql/dashboard",
            opts=prov.on("sysadmin", self),
        )
        digest = bundle.digest()
        env: dict[str, pulumi.Input[str]] = {
            "SNOWFLAKE_ORGANIZATION_NAME": args.connection.organization,
            "SNOWFLAKE_ACCOUNT_NAME": args.connection.account,
            "SNOWFLAKE_USER": args.providers.login.user,
            "SNOWFLAKE_ROLE": args.providers.login.roles["sysadmin"],
        }
        if args.private_key is not None:
            env["SNOWFLAKE_PRIVATE_KEY"] = pulumi.Output.secret(args.private_key)
        self.publish = command.local.Command(
            f"{name}-publish",
            create=self.stage.fully_qualified_name.apply(lambda s: PUBLISH.format(stage=s, directory=bundle.DIRECTORY)),
            environment=env,
            triggers=[digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.stage]),
        )
        self.app = snowflake.Streamlit(
            f"{name}-app",
            database=db,
            schema=CATALOG.schema("app"),
            name=CATALOG.name("app"),
            stage=self.stage.fully_qualified_name,
            directory_location=bundle.DIRECTORY,
            main_file=bundle.MAIN_FILE,
            query_warehouse=args.query_warehouse,
            title=args.config.title,
            comment=f"retail analytics dashboard, version {digest} (services/dashboard, sql/dashboard)",
            opts=prov.on("sysadmin", self, depends_on=[self.publish]),
        )
        grants = RoleGrants(name, prov.on("securityadmin", self))
        grants.on_object("analyst-usage", args.analyst_role, ["USAGE"], "STREAMLIT", self.app)
        self.register_outputs(
            {"stage": self.stage.fully_qualified_name, "app": self.app.fully_qualified_name, "version": digest}
        )
