"""Pulumi mocks that answer like the clouds would, and a monitor that records what the engine sees.

The outputs are deterministic functions of the inputs (ARNs from names, a pipe's notification
channel, an integration's IAM user and external id, an instance's host), so the offline plan shows
how resources are wired to each other by value.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

from infra import arns
from infra.arns import ACCOUNT_ID
from infra.config.reader import SECRET_MARK
from infra.naming import quote

SNOWFLAKE_AWS_ACCOUNT = "210987654321"  # the AWS account Snowflake's own IAM users live in
UNKNOWN_MARK = "[unknown]"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _h(*parts: str, n: int = 12) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:n]


def normalize(value: Any) -> Any:
    """Engine wire format to plain JSON: secrets masked, unknowns marked, references as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET_MARK
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        return {k: normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if value == _UNKNOWN:
        return UNKNOWN_MARK
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PlanMocks(pulumi.runtime.Mocks):
    """Cloud-shaped, deterministic outputs for every attribute another resource consumes."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAPLANMOCK",
                "id": ACCOUNT_ID,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if args.token == "aws:iam/getPolicyDocument:getPolicyDocument":
            import json

            return {"json": json.dumps(args.args, sort_keys=True), "id": "doc"}, []
        if args.token in ("github:index/getTeam:getTeam", "github:index/getUser:getUser"):
            # GitHub's numeric ids, stable per slug or login (the plan shows which reviewer is which)
            key = str(args.args.get("slug") or args.args.get("username"))
            return {"id": str(int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)), "slug": key, "login": key}, []
        return {}, []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        typ = args.typ
        outputs = dict(inputs)
        name = inputs.get("name") or args.name
        if typ.startswith("snowflake:"):
            rid = name
            db, schema = inputs.get("database"), inputs.get("schema")
            if db and schema:
                outputs["fullyQualifiedName"] = rid = quote(db, schema, name)
            elif db and typ.endswith("/schema:Schema"):
                outputs["fullyQualifiedName"] = rid = quote(db, name)
            else:
                outputs["fullyQualifiedName"] = quote(name)
            outputs.update(self._snowflake_outputs(typ, name, inputs))
            return rid, outputs
        if typ.startswith("aws:"):
            return self._aws(typ, args.name, inputs, outputs)
        if typ.startswith("postgresql:"):
            return name, outputs
        if typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = "mock-" + _h(args.name, "password", n=27)
            return args.name, outputs
        if typ == "pulumi-python:dynamic:Resource" and "instance" in inputs:
            # The regenerated admin credential (infra/serving/credential.py): what RESET ACCESS would return.
            outputs["password"] = "mock-admin-" + _h(str(inputs["instance"]), str(inputs.get("rotation")), n=21)
            outputs["ca_certificate"] = MOCK_CA_CERTIFICATE
            outputs["username"] = inputs.get("role", "snowflake_admin")
            return f"{inputs['instance']}/{inputs.get('role')}/{inputs.get('rotation')}", outputs
        if typ.startswith("docker:"):
            digest = "sha256:" + hashlib.sha256(repr(sorted(inputs.items())).encode()).hexdigest()
            outputs["repoDigest"] = f"{inputs.get('imageName', name)}@{digest}"
            outputs["imageName"] = inputs.get("imageName", name)
            return name, outputs
        return f"{args.name}-id", outputs

    def _snowflake_outputs(self, typ: str, name: str, inputs: dict) -> dict:
        out: dict[str, Any] = {}
        if typ.endswith("/pipe:Pipe"):
            queue = f"sf-snowpipe-AIDA{_h(name, n=16).upper()}-{_h(name, 'q', n=22)}"
            out["notificationChannel"] = f"arn:aws:sqs:{self.region}:{SNOWFLAKE_AWS_ACCOUNT}:{queue}"
        if typ.endswith("/storageIntegrationAws:StorageIntegrationAws"):
            out["describeOutputs"] = [
                {
                    "iamUserArn": f"arn:aws:iam::{SNOWFLAKE_AWS_ACCOUNT}:user/sf-{_h(name, n=8)}",
                    "externalId": f"RETAILORG_SFCRole=1_{_h(name, 'ext', n=20)}",
                    "storageAwsRoleArn": inputs.get("storageAwsRoleArn"),
                }
            ]
        if typ.endswith("/notificationIntegration:NotificationIntegration"):
            out["awsSnsIamUserArn"] = f"arn:aws:iam::{SNOWFLAKE_AWS_ACCOUNT}:user/sf-sns-{_h(name, n=8)}"
            out["awsSnsExternalId"] = f"RETAILORG_SFCRole=2_{_h(name, 'sns', n=20)}"
        if typ.endswith("/postgresInstance:PostgresInstance"):
            host = f"{_h(name, n=10)}.postgres.{self.region}.snowflake.app"
            out["describeOutputs"] = [{"host": host, "name": name, "state": "READY"}]
            out["showOutputs"] = [{"host": host, "name": name, "state": "READY"}]
        if typ.endswith("/imageRepository:ImageRepository"):
            db, schema = inputs.get("database", ""), inputs.get("schema", "")
            url = f"retailorg-retail-data.registry.snowflakecomputing.com/{db}/{schema}/{name}".lower()
            out["showOutputs"] = [{"repositoryUrl": url, "name": name, "databaseName": db, "schemaName": schema}]
        if typ.endswith("/service:Service"):
            out["serviceStatus"] = "RUNNING"
        if typ.endswith("/execute:Execute") and str(inputs.get("query", "")).startswith(
            "DESCRIBE SECURITY INTEGRATION"
        ):
            # what an AWS_IAM API authentication integration reports for the trust (its IAM user, external id)
            out["queryResults"] = [
                {
                    "property": "API_AWS_IAM_USER_ARN",
                    "property_value": f"arn:aws:iam::{SNOWFLAKE_AWS_ACCOUNT}:user/sf-api-{_h(name, n=8)}",
                },
                {"property": "API_AWS_EXTERNAL_ID", "property_value": f"RETAILORG_SFCRole=3_{_h(name, 'api', n=20)}"},
            ]
        return out

    def _aws(self, typ: str, logical: str, inputs: dict, outputs: dict) -> tuple[str, dict]:
        acct, region = ACCOUNT_ID, self.region
        if typ.startswith("aws:s3/bucket"):  # a bucket or one of its settings, whose id is the bucket's name
            bucket = inputs.get("bucket") or logical
            outputs.update(bucket=bucket, arn=arns.bucket(bucket), region=region)
            return bucket, outputs
        name = inputs.get("name") or logical
        rid = inputs.get("name") or f"{logical}-{_h(logical, n=8)}"
        try:  # the ARN as AWS gives it (infra/arns.py); a setting of another resource has none of its own
            arn = arns.arn(typ, logical, inputs, acct, region)
        except arns.UnknownTypeError:
            arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{acct}:{rid}"
        if arn is not None:
            outputs["arn"] = arn
        if typ == "aws:iam/role:Role":
            outputs.update(name=name, uniqueId=f"AROA{_h(name, n=16).upper()}")
            return name, outputs
        if typ in ("aws:iam/policy:Policy", "aws:sns/topic:Topic"):
            outputs.update(name=name)
            return outputs["arn"], outputs
        if typ == "aws:sqs/queue:Queue":
            outputs.update(name=name, url=f"https://sqs.{region}.amazonaws.com/{acct}/{name}")
            return outputs["url"], outputs
        if typ == "aws:dynamodb/table:Table":
            outputs.update(name=name)
            return name, outputs
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            return outputs["arn"], outputs
        return rid, outputs


# The account's Postgres root CA as DESCRIBE POSTGRES INSTANCE returns it (a stand-in body).
MOCK_CA_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMOCKROOTCA\n-----END CERTIFICATE-----\n"


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps each registration as the engine would receive it."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[dict] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw = json_format.MessageToDict(request.object)
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        self.records.append(
            {
                "urn": response.urn,
                "type": request.type,
                "name": request.name,
                "custom": bool(request.custom),
                "parent": request.parent or None,
                "inputs": normalize(raw),
                "dependencies": sorted(set(request.dependencies)),
                # per input, the resources its value came from: a provider configured from another
                # resource's output cannot be configured from state alone (infra/lifecycle_rules.py)
                "propertyDependencies": {
                    k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items()) if v.urns
                },
                "protect": bool(request.protect) if request.HasField("protect") else False,
                "provider": provider,
                "replaceWith": sorted(request.replace_with),
                # what a renamed or re-parented resource was released as (see tests/plan/test_aliases.py)
                "aliases": [json_format.MessageToDict(a) for a in request.aliases],
            }
        )
        return response
