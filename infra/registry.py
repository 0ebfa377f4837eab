"""The image resource pushed to a stack's image repository as the registry user, built for SPCS's
platform and tagged with what it is built from (infra/images.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from infra.images import ImageBuild

# A registry token is a Snowflake session token: Docker logs in with this user name and the token as
# password (`snow spcs image-registry token … | docker login … -u 0sessiontoken --password-stdin`).
TOKEN_USER = "0sessiontoken"
PLATFORM = "linux/amd64"  # what Snowpark Container Services runs


@dataclass(kw_only=True)
class Registry:
    """Where images are pushed and who pushes them: the repository URL (from its `show_outputs`), the
    registry user's short-lived token, and what must exist before a token can be minted and used."""

    repository_url: pulumi.Output[str]
    token: pulumi.Input[str] | None
    ready: list[pulumi.Resource] = field(default_factory=list)


def pushed_image(resource_name: str, image: ImageBuild, registry: Registry, parent: pulumi.Resource) -> docker.Image:
    """The image built for SPCS's platform and pushed as the registry user, after `registry.ready`."""
    server = registry.repository_url.apply(lambda u: u.split("/", 1)[0])
    return docker.Image(
        resource_name,
        image_name=registry.repository_url.apply(lambda u, n=image.name, tag=image.tag: f"{u}/{n}:{tag}"),
        build=docker.DockerBuildArgs(context=image.context, dockerfile=image.dockerfile, platform=PLATFORM),
        registry=docker.RegistryArgs(
            server=server,
            username=TOKEN_USER,
            password=pulumi.Output.secret(registry.token) if registry.token else None,
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=registry.ready),
    )
