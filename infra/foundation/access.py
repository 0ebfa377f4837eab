"""Role-based access: access roles per schema, functional roles on top, and a service user per duty.

Privileges are granted to access roles only; people and services get functional roles, which are
granted access roles. Future grants are made at schema level only, because Snowflake lets schema
future grants silently override database ones. Every functional role rolls up to the stack's admin role
(its objects' owner), so the owner can always see what the platform's roles can.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_snowflake as snowflake

from infra.foundation.config import ServiceUsers
from infra.grants import RoleGrants, quote_output
from infra.naming import Naming, object_ref, slug
from infra.network import Ingress, ingress_policy
from infra.providers import Providers

READ_FUTURE_OBJECTS = ("TABLES", "VIEWS", "DYNAMIC TABLES", "STREAMS")
READ_OBJECT_PRIVILEGES = ["SELECT"]
# The DDL each schema's writers use at run time, granted on the schema to its read/write access role
# (no grant when there is none): CREATE privilege -> the post-deploy step that issues it. Every table,
# view, dynamic table, stage, file format, pipe, stream, task, procedure and function is declared by
# Pulumi and owned by the stack's admin role, and no step creates one where its role writes: the
# service users fill, refresh and operate what exists (DML, PUT and COPY through declared stages, EXECUTE TASK, ALTER
# DYNAMIC TABLE ... REFRESH), so a leaked key can create no stage to unload through and no task, pipe
# or routine to run later. tests/foundation/test_service_ddl.py checks this against the steps' code.
RUNTIME_DDL: dict[str, dict[str, str]] = {
    # LOADER: Snowpipe's COPY runs as the pipe's owner; the change generator PUTs and COPYs through the
    # change log's declared stage as CDC_WRITER; analytics' generate/changes PUT and COPY through the
    # declared SHOP_LOAD_STAGE (no write_pandas: its temporary stage would need CREATE STAGE here), and
    # the recommendations' generate INSERTs from the declared GENERATE_* functions.
    "BRONZE": {},
    # TRANSFORMER: REFRESH of the declared dynamic tables; the ingestion MERGE runs in the owner's procedure
    "SILVER": {},
    # TRANSFORMER: INSERT OVERWRITE of the recommendations and propensity, REFRESH of the dynamic tables
    "GOLD": {},
    # TRANSFORMER: `train` registers the feature store's entities (tags) and feature views (views, no
    # refresh schedule: no dynamic table) through the caller's-rights ML_REGISTRY.REGISTRY_OPS; the
    # store's own two tags are declared, the role only APPLYs them
    "FEATURE_STORE": {
        "CREATE TAG": "train: FeatureStore.register_entity (sql/recommendations/ml_registry.py)",
        "CREATE VIEW": "train: FeatureStore.register_feature_view (sql/recommendations/ml_registry.py)",
    },
    # TRANSFORMER: `train` logs both models to the registry (a version per run, aliases moved) through
    # ML_REGISTRY.REGISTRY_OPS, and PUTs each run's model files to the declared MODEL_STAGE
    "ML_REGISTRY": {"CREATE MODEL": "train: Registry.log_model (sql/recommendations/ml_registry.py)"},
    # TRANSFORMER: EXECUTE TASK on the declared task graph (its procedures run as their owner)
    "STREAMS_TASKS": {},
}
WRITE_TABLE_PRIVILEGES = ["INSERT", "UPDATE", "DELETE", "TRUNCATE"]

# Which functional role reads and writes which schema, and which warehouse it runs on.
FUNCTIONAL_ROLES: dict[str, dict] = {
    "LOADER": {"read": [], "write": ["BRONZE"], "warehouse": "load"},
    "TRANSFORMER": {
        "read": ["BRONZE"],
        "write": ["SILVER", "GOLD", "FEATURE_STORE", "ML_REGISTRY", "STREAMS_TASKS"],
        "warehouse": "transform",
    },
    "ANALYST": {"read": ["SILVER", "GOLD"], "write": [], "warehouse": "serve"},
    "APP_SERVICE": {"read": ["GOLD", "FEATURE_STORE"], "write": [], "warehouse": "serve"},
}
# A service user per duty, each holding only its functional role (the registry user: IMAGE_PUSHER).
SERVICE_DUTY_ROLES = {"loader": "LOADER", "transformer": "TRANSFORMER", "app": "APP_SERVICE"}
SERVICE_GRANT_SLUGS = {"app": "app-service"}
DUTY_WAREHOUSES = {"loader": "load", "transformer": "transform", "app": "serve"}


@dataclass(kw_only=True)
class AccessControlArgs:
    naming: Naming
    providers: Providers
    database: pulumi.Input[str]
    schemas: dict[str, pulumi.Input[str]]
    warehouses: dict[str, pulumi.Input[str]]
    service_users: ServiceUsers
    allowed_cidrs: list[str]


class AccessControl(pulumi.ComponentResource):
    """Access roles, functional roles, their grants and the key-pair service users."""

    functional_roles: dict[str, snowflake.AccountRole]
    service_users: dict[str, snowflake.ServiceUser]
    image_pusher: snowflake.AccountRole

    def __init__(self, name: str, args: AccessControlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:access:AccessControl", name, None, opts)
        self._opts = args.providers.on("securityadmin", self)
        self._name = name
        self._g = RoleGrants(name, self._opts)
        self._access_roles(args)
        self._functional_roles(args)
        self.image_pusher = self._g.role(
            "image-pusher", args.naming.sf("IMAGE_PUSHER"), "pushes the API's images (registry user)"
        )
        self.service_users = self._service_users(args)
        self.register_outputs(
            {
                "functional_roles": {k: v.name for k, v in self.functional_roles.items()},
                "service_users": {k: v.name for k, v in self.service_users.items()},
            }
        )

    def _access_roles(self, args: AccessControlArgs) -> None:
        """A read and a read/write access role per schema, with grants on what exists and what will."""
        g, n, db = self._g, args.naming, args.database
        self.access_roles: dict[tuple[str, str], snowflake.AccountRole] = {}
        for schema, schema_name in args.schemas.items():
            s = slug(schema.lower())
            in_schema = quote_output(db, schema_name)
            read = g.role(f"ar-{s}-r", n.sf("AR", schema, "R"), f"access role: reads every object in {schema}")
            write = g.role(f"ar-{s}-rw", n.sf("AR", schema, "RW"), f"access role: reads, writes in {schema}")
            self.access_roles[(schema, "R")] = read
            self.access_roles[(schema, "RW")] = write
            g.grant(f"ar-{s}-r-db", read, ["USAGE"], on_account_object=object_ref("DATABASE", db))
            g.grant(f"ar-{s}-r-schema", read, ["USAGE"], on_schema={"schema_name": in_schema})
            for plural in READ_FUTURE_OBJECTS:
                label = f"ar-{s}-r-future-{plural.lower().replace(' ', '-')}"
                g.grant(label, read, READ_OBJECT_PRIVILEGES, on_schema_object=_objects("future", plural, in_schema))
            tables = _objects("all", "TABLES", in_schema)
            g.grant(f"ar-{s}-r-all-tables", read, READ_OBJECT_PRIVILEGES, on_schema_object=tables)
            g.inherit(f"ar-{s}-rw-inherits-r", read, to_role=write)
            if ddl := RUNTIME_DDL[schema]:
                g.grant(f"ar-{s}-rw-schema", write, list(ddl), on_schema={"schema_name": in_schema})
            future_tables = _objects("future", "TABLES", in_schema)
            g.grant(f"ar-{s}-rw-future-tables", write, WRITE_TABLE_PRIVILEGES, on_schema_object=future_tables)

    def _functional_roles(self, args: AccessControlArgs) -> None:
        """Functional roles made of access roles, each with its warehouse, rolled up to the admin role."""
        g = self._g
        self.functional_roles = {}
        for fr, spec in FUNCTIONAL_ROLES.items():
            f = slug(fr.lower())
            role = g.role(f"fr-{f}", args.naming.sf(fr), f"functional role {fr}")
            self.functional_roles[fr] = role
            for schema in spec["read"]:
                g.inherit(f"fr-{f}-{slug(schema.lower())}-r", self.access_roles[(schema, "R")], to_role=role)
            for schema in spec["write"]:
                g.inherit(f"fr-{f}-{slug(schema.lower())}-rw", self.access_roles[(schema, "RW")], to_role=role)
            warehouse = object_ref("WAREHOUSE", args.warehouses[spec["warehouse"]])
            g.grant(f"fr-{f}-wh", role, ["USAGE", "OPERATE"], on_account_object=warehouse)
            g.inherit(f"fr-{f}-to-admin", role, to_role=args.providers.owner_role)

    def _service_users(self, args: AccessControlArgs) -> dict[str, snowflake.ServiceUser]:
        """A key-pair user per duty with only that duty's role, no secondary roles, and a network
        policy of its own: a leaked key is bounded by one duty and by where it may log in from."""
        n, users = args.naming, {}
        roles = {d: self.functional_roles[fr] for d, fr in SERVICE_DUTY_ROLES.items()}
        roles["registry"] = self.image_pusher
        for duty, role in roles.items():
            cfg = getattr(args.service_users, duty)
            _, policy = ingress_policy(
                self,
                args.providers,
                args.database,
                Ingress(
                    rule=f"{self._name}-svc-{duty}-ingress",
                    policy=f"{self._name}-svc-{duty}-policy",
                    rule_name=n.sf("SVC", duty, "INGRESS"),
                    policy_name=n.sf("SVC", duty, "POLICY"),
                    cidrs=cfg.allowed_cidrs or args.allowed_cidrs,
                    purpose=f"the {duty} service user",
                ),
            )
            # the loader keeps the released logical name of the one service user it replaces
            logical = f"{self._name}-service-user" if duty == "loader" else f"{self._name}-service-user-{duty}"
            users[duty] = snowflake.ServiceUser(
                logical,
                name=n.sf("SVC", duty),
                comment=f"key-pair service user: {duty}",
                rsa_public_key=cfg.public_key,
                default_role=role.name,
                default_warehouse=args.warehouses[DUTY_WAREHOUSES[duty]] if duty in DUTY_WAREHOUSES else None,
                default_secondary_roles_option="NONE",
                network_policy=policy.name,
                opts=self._opts,
            )
            # released names: access-svc-loader, -transformer, -app-service (the functional role's slug)
            self._g.inherit(f"svc-{SERVICE_GRANT_SLUGS.get(duty, duty)}", role, to_user=users[duty].name)
        return users


def _objects(scope: str, plural: str, in_schema: pulumi.Input[str]) -> dict:
    """Schema objects of one kind, `all` that exist or `future` ones, as a grant's `on_schema_object`."""
    return {scope: {"object_type_plural": plural, "in_schema": in_schema}}
