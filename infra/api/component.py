"""The real-time recommendation API on Snowpark Container Services: compute pool, image repository,
the orchestrator and ranker images (built and pushed with pulumi-docker), their services from the
spec templates in services/, and the grant that lets the app role call the API's endpoint.

Images are referenced by digest, so pushing a new image changes the spec and updates the service;
services depend on the pool, so `pulumi destroy` drops them before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker
import pulumi_snowflake as snowflake

from infra.api.config import ApiConfig
from infra.api.owner import ServiceOwnerArgs, service_owner
from infra.foundation.config import SnowflakeConnection
from infra.naming import Catalog, Naming, quote, unquote
from infra.providers import Providers
from infra.serving.config import PostgresConfig
from infra.sqlfiles import render_template

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
PORTS = {"orchestrator": 8000, "ranker": 8080}
CATALOG = Catalog(
    {
        "repository": ("ML_REGISTRY", "RETAIL_IMAGES"),
        "orchestrator": ("ML_REGISTRY", "ORCHESTRATOR_SERVICE"),
        "ranker": ("ML_REGISTRY", "RANKER_SERVICE"),
    }
)
# Where each image is built from, relative to the project directory (where Pulumi runs), so plans
# do not embed a checkout path. The orchestrator's context is services/ because its image also
# carries services/features, the pair features it shares with the ranker's training.
BUILD_CONTEXTS = {"ranker": "services/ranker", "orchestrator": "services"}


def spcs_image_path(repo_digest: str) -> str:
    """`<registry host>/db/schema/repo/name@sha256:…` → `/db/schema/repo/name@sha256:…` (SPCS form)."""
    _, _, path = repo_digest.partition("/")
    return "/" + path


def internal_dns(service: str, schema: str, database: str) -> str:
    """The service's name inside SPCS (dashes for underscores, lower case)."""
    return (
        "-".join(service.lower().split("_"))
        + f".{schema.lower()}.{database.lower()}".replace("_", "-")
        + (".snowflakecomputing.internal")
    )


@dataclass
class ApiBackends:
    """What the API reads from, as Outputs of the serving, recommendations and foundation components."""

    pg_host: pulumi.Input[str]
    pg_secret: pulumi.Input[str]
    pg_ca_secret: pulumi.Input[str]
    external_access_integration: pulumi.Input[str]
    model_stage: pulumi.Input[str]
    warehouse: pulumi.Input[str]


@dataclass
class RegistryLogin:
    """Who pushes the images: the registry service user (IMAGE_PUSHER) and its short-lived token."""

    user: pulumi.Input[str]
    role: pulumi.Input[str]
    token: pulumi.Input[str] | None


@dataclass
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
        n, cfg, prov, be = args.naming, args.config, args.providers, args.backends
        as_sys = prov.on("sysadmin", self)
        as_sec = prov.on("securityadmin", self)

        self.pool = snowflake.ComputePool(
            f"{name}-pool",
            name=n.sf("POOL"),
            instance_family=cfg.instance_family,
            min_nodes=cfg.min_nodes,
            max_nodes=cfg.max_nodes,
            auto_suspend_secs=cfg.auto_suspend_seconds,
            auto_resume="true",
            comment="runs the recommendation API (orchestrator + ranker)",
            opts=prov.on("accountadmin", self),
        )
        self.repository = snowflake.ImageRepository(
            f"{name}-images",
            database=args.database,
            schema=CATALOG.schema("repository"),
            name=CATALOG.name("repository"),
            comment="orchestrator and ranker images",
            opts=pulumi.ResourceOptions.merge(as_sys, pulumi.ResourceOptions(protect=args.protect)),
        )
        # the registry user pushes the images: IMAGE_PUSHER may read and write this repository only
        pusher = snowflake.GrantPrivilegesToAccountRole(
            f"{name}-images-push",
            account_role_name=args.registry.role,
            privileges=["READ", "WRITE"],
            on_schema_object={"object_type": "IMAGE REPOSITORY", "object_name": self.repository.fully_qualified_name},
            opts=as_sec,
        )
        self.owner = service_owner(
            name,
            self,
            ServiceOwnerArgs(
                n, prov, args.connection, args.private_key, args.database, self.pool.name,
                self.repository.fully_qualified_name, be.model_stage, be.external_access_integration,
                [be.pg_secret, be.pg_ca_secret], be.warehouse,
            ),
        )  # fmt: skip
        as_owner = pulumi.ResourceOptions(parent=self, provider=self.owner.provider)
        # a service keeps its name when replaced (a new owner, say): drop the old one before creating the new
        as_replaced_first = pulumi.ResourceOptions.merge(as_owner, pulumi.ResourceOptions(delete_before_replace=True))
        self.repository_url = self.repository.show_outputs.apply(lambda o: o[0].repository_url if o else "")
        server = self.repository_url.apply(lambda u: u.split("/", 1)[0])
        self.images = {
            svc: docker.Image(
                f"{name}-{svc}-image",
                image_name=self.repository_url.apply(lambda u, s=svc: f"{u}/{s}:{cfg.image_tag}"),
                build=docker.DockerBuildArgs(
                    context=BUILD_CONTEXTS[svc],
                    dockerfile=f"services/{svc}/Dockerfile",
                    platform="linux/amd64",
                ),
                registry=docker.RegistryArgs(
                    server=server,
                    username=args.registry.user,
                    password=pulumi.Output.secret(args.registry.token) if args.registry.token else None,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[pusher]),
            )
            for svc in ("ranker", "orchestrator")
        }
        sizes = {"orchestrator": cfg.orchestrator, "ranker": cfg.ranker}

        def sizing(svc: str) -> dict[str, str]:
            s = sizes[svc]
            return {
                "cpu_request": f"{s.cpu_request:g}",
                "cpu_limit": f"{s.cpu_limit:g}",
                "memory_request": s.memory_request,
                "memory_limit": s.memory_limit,
            }

        model_stage = pulumi.Output.from_input(be.model_stage).apply(lambda fq: "@" + unquote(fq))
        ranker_spec = pulumi.Output.all(self.images["ranker"].repo_digest, model_stage).apply(
            lambda a: render_template(
                SERVICES_DIR / "ranker" / "spec.yaml.tmpl",
                image=spcs_image_path(a[0]),
                model_stage=a[1],
                **sizing("ranker"),
            )
        )
        self.services = {}
        self.services["ranker"] = snowflake.Service(
            f"{name}-ranker",
            database=args.database,
            schema=CATALOG.schema("ranker"),
            name=CATALOG.name("ranker"),
            compute_pool=self.pool.name,
            from_specification={"text": ranker_spec},
            min_instances=cfg.ranker.min_instances,
            max_instances=cfg.ranker.max_instances,
            auto_resume=True,
            comment="XGBoost ranking model in the model-service format",
            opts=as_replaced_first,
        )
        ranker_dns = internal_dns(CATALOG.name("ranker"), CATALOG.schema("ranker"), n.database)
        ranker_url = f"http://{ranker_dns}:{PORTS['ranker']}"
        orch_spec = pulumi.Output.all(
            self.images["orchestrator"].repo_digest,
            be.pg_host,
            be.pg_secret,
            be.warehouse,
            model_stage,
            be.pg_ca_secret,
        ).apply(
            lambda a: render_template(
                SERVICES_DIR / "orchestrator" / "spec.yaml.tmpl",
                image=spcs_image_path(a[0]),
                pg_host=a[1],
                pg_db=args.postgres.database,
                pg_user=n.pg("app"),
                pg_schema=args.postgres.serving_schema,
                pg_secret=unquote(a[2]),
                ranker_mode=cfg.ranker_mode,
                ranker_url=ranker_url,
                database=n.database,
                warehouse=a[3],
                model_stage=a[4],
                pg_ca_secret=unquote(a[5]),
                **sizing("orchestrator"),
            )
        )
        self.services["orchestrator"] = snowflake.Service(
            f"{name}-orchestrator",
            database=args.database,
            schema=CATALOG.schema("orchestrator"),
            name=CATALOG.name("orchestrator"),
            compute_pool=self.pool.name,
            from_specification={"text": orch_spec},
            external_access_integrations=[be.external_access_integration],
            min_instances=cfg.orchestrator.min_instances,
            max_instances=cfg.orchestrator.max_instances,
            auto_resume=True,
            query_warehouse=be.warehouse,
            comment="recommendation API: /recommend, /health, /",
            opts=pulumi.ResourceOptions.merge(
                as_replaced_first, pulumi.ResourceOptions(depends_on=[self.services["ranker"]])
            ),
        )
        # The app role may call the orchestrator's public endpoint (its service role for all endpoints);
        # the owner grants it, as only a service's owner may.
        svc_fq = self.services["orchestrator"].fully_qualified_name
        self.endpoint_grant = snowflake.Execute(
            f"{name}-endpoint-usage",
            execute=pulumi.Output.all(svc_fq, args.app_role).apply(
                lambda a: f"GRANT SERVICE ROLE {a[0]}!ALL_ENDPOINTS_USAGE TO ROLE {quote(a[1])}"
            ),
            revert=pulumi.Output.all(svc_fq, args.app_role).apply(
                lambda a: f"REVOKE SERVICE ROLE {a[0]}!ALL_ENDPOINTS_USAGE FROM ROLE {quote(a[1])}"
            ),
            opts=as_replaced_first,  # the old REVOKE must not undo the new GRANT
        )
        self.register_outputs(
            {
                "pool": self.pool.name,
                "repository_url": self.repository_url,
                "orchestrator": svc_fq,
                "images": {k: v.repo_digest for k, v in self.images.items()},
            }
        )
