"""The real-time recommendation API on Snowpark Container Services: compute pool, image repository,
the orchestrator and ranker images (built and pushed with pulumi-docker), their services from the
spec templates in services/, and the grant that lets the app role call the API's endpoint.

Images are tagged with the digest of what they are built from (infra/images.py) and referenced by
digest, so a change to service code rebuilds the image, changes the spec and updates the service;
services depend on the pool, so `pulumi destroy` drops them before it. The images are pushed with the
registry user's short-lived token only once that user, its role and the push grant exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_snowflake as snowflake

from infra.account.catalog import budget_tag
from infra.api.catalog import (
    BUILD_CONTEXTS,
    CATALOG,
    PORTS,
    PUBLIC_ENDPOINT,
    SERVICES,
    internal_dns,
    public_url,
    spcs_image_path,
)
from infra.api.config import ApiConfig, ServiceSizing, pool_per_worker
from infra.api.owner import ServiceOwnerArgs, service_owner
from infra.foundation.config import SnowflakeConnection
from infra.grants import RoleGrants
from infra.images import ImageBuild
from infra.naming import Naming, quote, unquote
from infra.providers import Providers
from infra.registry import Registry, pushed_image
from infra.serving.config import PostgresConfig
from infra.sqlfiles import render_template

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services" / "api"


@dataclass(kw_only=True)
class ApiBackends:
    """What the API reads from, as Outputs of the serving, recommendations and foundation components."""

    pg_host: pulumi.Input[str]
    pg_secret: pulumi.Input[str]
    pg_ca_secret: pulumi.Input[str]
    external_access_integration: pulumi.Input[str]
    model_stage: pulumi.Input[str]
    warehouse: pulumi.Input[str]
    # the tables the warehouse fallback reads, by catalog key (SERVED_TABLE_KEYS), as resources
    tables: Mapping[str, pulumi.Resource]


@dataclass(kw_only=True)
class RegistryLogin:
    """Who pushes the images: the registry service user (IMAGE_PUSHER) and its short-lived token, and
    what must exist before a token can be minted and used (the user and its role grant)."""

    user: pulumi.Input[str]
    role: pulumi.Input[str]
    token: pulumi.Input[str] | None
    ready: list[pulumi.Resource] = field(default_factory=list)


@dataclass(kw_only=True)
class RecommendationApiArgs:
    naming: Naming
    providers: Providers
    config: ApiConfig
    postgres: PostgresConfig
    registry: RegistryLogin
    connection: SnowflakeConnection
    private_key: pulumi.Input[str] | None
    protect: bool
    database: pulumi.Input[str]
    app_role: pulumi.Input[str]
    backends: ApiBackends
    # the Postgres app role's connection_limit: every orchestrator worker's pool together stays within it
    app_connection_limit: int


def _sizing(s: ServiceSizing) -> dict[str, str]:
    return {
        "cpu_request": f"{s.cpu_request:g}",
        "cpu_limit": f"{s.cpu_limit:g}",
        "memory_request": s.memory_request,
        "memory_limit": s.memory_limit,
    }


class RecommendationApi(pulumi.ComponentResource):
    """Pool → repository → images → services (ranker, then the orchestrator that calls it)."""

    services: dict[str, snowflake.Service]
    images: dict[str, docker.Image]

    def __init__(self, name: str, args: RecommendationApiArgs, opts: pulumi.ResourceOptions | None = None):
        # Released as retail:spcs:RecommendationApi; the alias keeps the deployed pool and services.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="retail:spcs:RecommendationApi")])
        )
        super().__init__("retail:api:RecommendationApi", name, None, opts)
        self._name, self._args = name, args
        pusher = self._pool_and_repository()
        self.push_grant = pusher  # the registry user's push grant: other images wait for it too
        be = args.backends
        self.owner = service_owner(
            name,
            self,
            ServiceOwnerArgs(
                naming=args.naming,
                providers=args.providers,
                connection=args.connection,
                private_key=args.private_key,
                database=args.database,
                pool=self.pool.name,
                repository=self.repository.fully_qualified_name,
                model_stage=be.model_stage,
                integration=be.external_access_integration,
                secrets=[be.pg_secret, be.pg_ca_secret],
                warehouse=be.warehouse,
                tables=be.tables,
            ),
        )
        self._images(pusher)
        self._services()
        self._endpoint_grant()
        self.register_outputs(
            {
                "pool": self.pool.name,
                "repository_url": self.repository_url,
                "orchestrator": self.services["orchestrator"].fully_qualified_name,
                "images": {k: v.repo_digest for k, v in self.images.items()},
                "endpoint": self.endpoint_url,
            }
        )

    def _pool_and_repository(self) -> snowflake.GrantPrivilegesToAccountRole:
        """The compute pool, the image repository, and the registry user's push grant on it."""
        name, args, cfg, prov = self._name, self._args, self._args.config, self._args.providers
        self.pool = snowflake.ComputePool(
            f"{name}-pool",
            name=args.naming.sf("POOL"),
            instance_family=cfg.instance_family,
            min_nodes=cfg.min_nodes,
            max_nodes=cfg.max_nodes,
            auto_suspend_secs=cfg.auto_suspend_seconds,
            auto_resume="true",
            comment="runs the recommendation API (orchestrator + ranker)",
            opts=prov.on("accountadmin", self),
        )
        # the pool's credits count against the environment's Snowflake budget (no review stack has a pool)
        snowflake.TagAssociation(
            f"{name}-pool-budget-scope",
            object_identifiers=[self.pool.fully_qualified_name],
            object_type="COMPUTE POOL",
            tag_id=budget_tag(args.naming.prefix, args.naming),
            tag_value=args.naming.stack,
            opts=prov.on("accountadmin", self),
        )
        self.repository = snowflake.ImageRepository(
            f"{name}-images",
            database=args.database,
            schema=CATALOG.schema("repository"),
            name=CATALOG.name("repository"),
            comment="orchestrator and ranker images",
            opts=prov.on("sysadmin", self, protect=args.protect),
        )
        # the registry user pushes the images: IMAGE_PUSHER may read and write this repository only
        grants = RoleGrants(name, prov.on("securityadmin", self))
        return grants.on_object(
            "images-push", args.registry.role, ["READ", "WRITE"], "IMAGE REPOSITORY", self.repository
        )

    def _images(self, pusher: pulumi.Resource) -> None:
        """Both images, built for SPCS's platform and pushed by the registry user (its session token):
        after the user, its role grant and the push grant exist, tagged with their build context's digest."""
        name, args = self._name, self._args
        self.repository_url = self.repository.show_outputs.apply(lambda o: o[0].repository_url if o else "")
        self.registry = Registry(
            repository_url=self.repository_url, token=args.registry.token, ready=[pusher, *args.registry.ready]
        )
        self.images = {
            svc: pushed_image(
                f"{name}-{svc}-image",
                ImageBuild(
                    name=svc,
                    version=args.config.image_tag,
                    dockerfile=f"services/api/{svc}/Dockerfile",
                    context=BUILD_CONTEXTS[svc],
                ),
                self.registry,
                self,
            )
            for svc in SERVICES
        }

    def _services(self) -> None:
        """The ranker, then the orchestrator that calls it, each from its spec template in services/."""
        args, n, be = self._args, self._args.naming, self._args.backends
        model_stage = pulumi.Output.from_input(be.model_stage).apply(lambda fq: "@" + unquote(fq))
        self.services = {}
        self._service("ranker", "XGBoost ranking model in the model-service format", {"model_stage": model_stage})
        ranker_dns = internal_dns(CATALOG.name("ranker"), CATALOG.schema("ranker"), n.database)
        orchestrator_spec = {
            "pg_host": be.pg_host,
            "pg_db": args.postgres.database,
            "pg_user": n.pg("app"),
            "pg_schema": args.postgres.serving_schema,
            "pg_secret": pulumi.Output.from_input(be.pg_secret).apply(unquote),
            "ranker_mode": args.config.ranker_mode,
            "ranker_url": f"http://{ranker_dns}:{PORTS['ranker']}",
            "database": n.database,
            "warehouse": be.warehouse,
            "model_stage": model_stage,
            "pg_ca_secret": pulumi.Output.from_input(be.pg_ca_secret).apply(unquote),
            "pg_pool_size": str(pool_per_worker(args.config.orchestrator, args.app_connection_limit)),
        }
        self._service(
            "orchestrator",
            "recommendation API: /recommend, /health, /",
            orchestrator_spec,
            external_access_integrations=[be.external_access_integration],
            query_warehouse=be.warehouse,
            depends_on=[self.services["ranker"]],
        )

    def _service(
        self,
        svc: str,
        comment: str,
        spec: dict[str, pulumi.Input[str]],
        depends_on: list[pulumi.Resource] | None = None,
        **inputs: object,
    ) -> None:
        """One service: its image by digest and `spec` rendered into services/api/<svc>/spec.yaml.tmpl."""
        sizing: ServiceSizing = getattr(self._args.config, svc)
        template = SERVICES_DIR / svc / "spec.yaml.tmpl"
        text = pulumi.Output.all(image=self.images[svc].repo_digest, **spec).apply(
            lambda a: render_template(template, **{**a, "image": spcs_image_path(a["image"])}, **_sizing(sizing))
        )
        self.services[svc] = snowflake.Service(
            f"{self._name}-{svc}",
            database=self._args.database,
            schema=CATALOG.schema(svc),
            name=CATALOG.name(svc),
            compute_pool=self.pool.name,
            from_specification={"text": text},
            min_instances=sizing.min_instances,
            max_instances=sizing.max_instances,
            auto_resume=True,
            comment=comment,
            # a service keeps its name when replaced (a new owner, say): drop the old one before creating the new
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.owner.provider, delete_before_replace=True, depends_on=depends_on
            ),
            **inputs,
        )

    def _endpoint_grant(self) -> None:
        """The app role may call the orchestrator's public endpoint (its service role for all endpoints);
        the owner grants it, as only a service's owner may."""
        svc_fq = self.services["orchestrator"].fully_qualified_name
        grant = pulumi.Output.all(svc_fq, self._args.app_role)
        self.endpoint_grant = snowflake.Execute(
            f"{self._name}-endpoint-usage",
            execute=grant.apply(lambda a: f"GRANT SERVICE ROLE {a[0]}!ALL_ENDPOINTS_USAGE TO ROLE {quote(a[1])}"),
            revert=grant.apply(lambda a: f"REVOKE SERVICE ROLE {a[0]}!ALL_ENDPOINTS_USAGE FROM ROLE {quote(a[1])}"),
            # read back on create and on every refresh: the public endpoint's host once SPCS has provisioned it
            query=svc_fq.apply(lambda s: f"SHOW ENDPOINTS IN SERVICE {s}"),
            # the old REVOKE must not undo the new GRANT
            opts=pulumi.ResourceOptions(parent=self, provider=self.owner.provider, delete_before_replace=True),
        )
        self.endpoint_url = self.endpoint_grant.query_results.apply(lambda rows: public_url(rows, PUBLIC_ENDPOINT))
