"""The operations alerts: one Snowflake alert per thing that can go wrong unnoticed (a task failed, a
dynamic table fell behind, a feed's pipe failed or fell silent, a stream is going stale, the serving stores
are old), each on the transform warehouse on the configured schedule, notifying the stack's error
integration (the SNS topic its pipes and tasks already report to).

The alerts are owned by the stack's admin role, which runs them: resuming one takes EXECUTE ALERT on the
account (the account stack grants it), calling the alert time functions the SNOWFLAKE database role
ALERT_VIEWER (granted there too), sending the notification the integration, which the role owns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.naming import Naming, slug
from infra.operations import catalog
from infra.operations.catalog import ALERTS, CATALOG, STREAM_STATE_COLUMNS, LagTarget, Thresholds
from infra.operations.config import OperationsConfig
from infra.providers import Providers


@dataclass(kw_only=True)
class OperationsAlertsArgs:
    naming: Naming
    providers: Providers
    config: OperationsConfig
    database: pulumi.Input[str]
    warehouse: pulumi.Input[str]
    error_integration: pulumi.Input[str]
    lag_targets: tuple[LagTarget, ...]
    # what the conditions name, so each alert is created after it: each feed's pipe (by feed), the dynamic
    # tables with a target lag, and the serving refresh task (None where the stack has none: no serving_stale)
    pipes: dict[str, pulumi.Resource]
    dynamic_tables: list[pulumi.Resource]
    serving_refresh: pulumi.Resource | None = None


class OperationsAlerts(pulumi.ComponentResource):
    """The alerts, and STREAM_STATES: SHOW STREAMS as a table the stream alert's condition selects from."""

    alerts: dict[str, snowflake.Alert]
    stream_states: snowflake.ProcedureSql

    def __init__(self, name: str, args: OperationsAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:operations:OperationsAlerts", name, None, opts)
        db = pulumi.Output.from_input(args.database)
        self.stream_states = snowflake.ProcedureSql(
            f"{name}-stream-states",
            database=db,
            schema=CATALOG.schema("stream_states"),
            name=CATALOG.name("stream_states"),
            return_type=f"TABLE ({', '.join(f'{c} {t}' for c, t in STREAM_STATE_COLUMNS)})",
            execute_as="OWNER",
            procedure_definition=db.apply(catalog.stream_states_sql),
            comment="the database's streams as SHOW STREAMS reports them, for the stream_stale alert",
            opts=args.providers.on("sysadmin", self),
        )
        names = {
            "task_failed": [],
            "dynamic_table_behind": list(args.dynamic_tables),
            **{catalog.pipe_alert(feed): [pipe] for feed, pipe in args.pipes.items()},
            "stream_stale": [self.stream_states],
        }
        if args.serving_refresh is not None:
            names["serving_stale"] = [args.serving_refresh]
        self.alerts = {key: self._alert(name, args, db, key, depends_on) for key, depends_on in names.items()}
        self.register_outputs({key: alert.fully_qualified_name for key, alert in self.alerts.items()})

    def _alert(
        self,
        name: str,
        args: OperationsAlertsArgs,
        db: pulumi.Output[str],
        key: str,
        depends_on: list[pulumi.Resource],
    ) -> snowflake.Alert:
        cfg = args.config
        thresholds = Thresholds(
            lag_targets=args.lag_targets,
            silence_hours=cfg.pipe_silence_hours,
            max_age_hours=cfg.serving_max_age_hours,
        )
        return snowflake.Alert(
            f"{name}-{slug(key)}",
            database=db,
            schema=CATALOG.schema(key),
            name=CATALOG.name(key),
            warehouse=args.warehouse,
            alert_schedule={"interval": cfg.schedule_minutes},
            condition=db.apply(lambda d: catalog.stack_conditions(d, thresholds)[key]),
            action=pulumi.Output.all(db, args.error_integration).apply(lambda a: catalog.action_sql(key, a[0], a[1])),
            enabled=cfg.enabled,
            comment=f"{ALERTS[key]} (sql/operations/alerts.sql {key})",
            opts=args.providers.on("sysadmin", self, depends_on=depends_on),
        )
