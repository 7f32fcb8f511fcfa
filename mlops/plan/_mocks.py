"""Realistic answers for what the program asks the cloud during an offline plan.

Nothing here talks to AWS: resources get deterministic ids, names and ARNs derived from their URN, and
invokes (caller identity, region, availability zones, ...) are answered from the stack's settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pulumi


class UnknownInvokeError(Exception):
    """The program called a data source the offline plan has no answer for."""


def _suffix(seed: str, length: int = 7) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:length]


def _service(type_token: str) -> str:
    # "aws:s3/bucket:Bucket" -> "s3"
    return type_token.split(":")[1].split("/")[0] if type_token.count(":") >= 2 else "resource"


# Resources whose ARN is not "<service>:<region>:<account>:<kind>/<name>": (name input, ARN format).
_ARN_FORMATS: dict[str, tuple[str, str]] = {
    "aws:sagemaker/pipeline:Pipeline": (
        "pipelineName", "arn:{partition}:sagemaker:{region}:{account}:pipeline/{name}"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        "modelPackageGroupName", "arn:{partition}:sagemaker:{region}:{account}:model-package-group/{name}"),
    "aws:ecr/repository:Repository": ("name", "arn:{partition}:ecr:{region}:{account}:repository/{name}"),
    "aws:lambda/function:Function": ("name", "arn:{partition}:lambda:{region}:{account}:function:{name}"),
    "aws:sqs/queue:Queue": ("name", "arn:{partition}:sqs:{region}:{account}:{name}"),
    "aws:cloudwatch/eventRule:EventRule": ("name", "arn:{partition}:events:{region}:{account}:rule/{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "arn:{partition}:logs:{region}:{account}:log-group:{name}"),
    "aws:scheduler/scheduleGroup:ScheduleGroup": (
        "name", "arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}"),
    "aws:scheduler/schedule:Schedule": (
        "name", "arn:{partition}:scheduler:{region}:{account}:schedule/{group}/{name}"),
}


class PlanMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes as AWS would for the given account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.partition = "aws"
        self._invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getRegion:getRegion": self._region,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._availability_zones,
            "aws:iam/getPolicyDocument:getPolicyDocument": self._policy_document,
        }

    # -- resources -------------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        typ, name = args.typ, args.name
        # The random suffix Pulumi would add, made deterministic and independent of the stack name so that
        # the same resource in two stacks gets the same suffix and `mlops diff` compares like with like.
        generic = name.replace(f"{pulumi.get_project()}-{pulumi.get_stack()}", "")
        physical = f"{name}-{_suffix(typ + generic)}"
        state: dict[str, Any] = dict(args.inputs)
        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider-id", state
        service = _service(typ)
        if typ == "aws:s3/bucket:Bucket":
            bucket = state.get("bucket") or physical
            state.update(bucket=bucket, arn=f"arn:{self.partition}:s3:::{bucket}",
                         bucketDomainName=f"{bucket}.s3.amazonaws.com", region=self.region)
            return bucket, state
        if typ == "aws:s3/bucketObjectv2:BucketObjectv2":
            # Versioned buckets give every upload a version id; the plan cannot hash the (unread) file.
            state.update(versionId=f"plan-{_suffix(typ + generic, 12)}", etag=_suffix(generic, 32))
            return f"{state.get('bucket')}/{state.get('key')}", state
        if typ == "aws:kms/key:Key":
            key_id = "-".join(_suffix(generic + str(i), n) for i, n in enumerate((8, 4, 4, 4, 12)))
            state.update(keyId=key_id, arn=f"arn:{self.partition}:kms:{self.region}:{self.account_id}:key/{key_id}")
            return key_id, state
        if service == "iam" and typ.endswith(":Role"):
            role = state.get("name") or physical
            path = state.get("path") or "/"
            state.update(name=role, arn=f"arn:{self.partition}:iam::{self.account_id}:role{path}{role}",
                         uniqueId=f"AROA{_suffix(name, 17).upper()}")
            return role, state
        if service == "iam" and typ.endswith(":Policy"):
            policy_name = state.get("name") or physical
            state.update(name=policy_name, arn=f"arn:{self.partition}:iam::{self.account_id}:policy/{policy_name}")
            return policy_name, state
        if typ in _ARN_FORMATS:
            return self._named_resource(typ, physical, state)
        # Generic AWS resource: auto-name it if it takes a name, and give it an ARN in this account/region.
        resource_name = state.get("name") or physical
        state.setdefault("name", resource_name)
        kind = typ.split(":")[-1][:1].lower() + typ.split(":")[-1][1:]
        prefix = f"arn:{self.partition}:{service}:{self.region}:{self.account_id}"
        state.setdefault("arn", f"{prefix}:{kind}/{resource_name}")
        return f"{resource_name}-id", state

    def _named_resource(self, typ: str, physical: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name_input, arn_format = _ARN_FORMATS[typ]
        resource_name = state.get(name_input) or physical
        names = {"partition": self.partition, "region": self.region, "account": self.account_id,
                 "name": resource_name, "group": state.get("groupName") or "default"}
        state.update({name_input: resource_name, "arn": arn_format.format(**names)})
        if typ == "aws:ecr/repository:Repository":
            state.update(registryId=self.account_id,
                         repositoryUrl=f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{resource_name}")
        if typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{resource_name}"
            return state["url"], state
        if typ == "aws:lambda/function:Function":
            state["invokeArn"] = f"arn:{self.partition}:apigateway:{self.region}:lambda:path/2015-03-31/functions/" \
                                 f"{state['arn']}/invocations"
        return resource_name, state

    # -- invokes ---------------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        answer = self._invokes.get(args.token)
        if answer is None:
            raise UnknownInvokeError(
                f"the offline plan has no answer for the data source '{args.token}'; "
                "add one to mlops/plan/_mocks.py (PlanMocks._invokes)"
            )
        return answer(dict(args.args))

    def _caller_identity(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "arn": f"arn:{self.partition}:sts::{self.account_id}:assumed-role/mlops-plan/offline",
            "userId": "AROAOFFLINEPLAN:offline",
            "id": self.account_id,
        }

    def _region(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"name": self.region, "region": self.region, "id": self.region,
                "description": self.region, "endpoint": f"ec2.{self.region}.amazonaws.com"}

    def _partition(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"partition": self.partition, "dnsSuffix": "amazonaws.com", "id": self.partition,
                "reverseDnsPrefix": "com.amazonaws"}

    def _availability_zones(self, _: dict[str, Any]) -> dict[str, Any]:
        letters = "abc"
        return {"names": [f"{self.region}{x}" for x in letters],
                "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
                "id": self.region, "groupNames": [self.region]}

    def _policy_document(self, args: dict[str, Any]) -> dict[str, Any]:
        statements = []
        for st in args.get("statements") or []:
            out: dict[str, Any] = {"Effect": st.get("effect", "Allow")}
            if st.get("sid"):
                out["Sid"] = st["sid"]
            for src, dst in (("actions", "Action"), ("resources", "Resource"), ("notActions", "NotAction")):
                if st.get(src):
                    out[dst] = st[src]
            for p in st.get("principals") or []:
                out.setdefault("Principal", {})[p["type"]] = p["identifiers"]
            for c in st.get("conditions") or []:
                out.setdefault("Condition", {}).setdefault(c["test"], {})[c["variable"]] = c["values"]
            statements.append(out)
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        return {"json": document, "minifiedJson": document, "id": _suffix(document)}
