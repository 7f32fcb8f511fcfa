"""Fixtures and helpers of the training tests: the stacks' plans, plans with config overrides, lookups of one
model's training resources, and a moto server (real HTTP on 127.0.0.1) for the eventing and Lambda tests."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from mlops._json import decode_json_text
from mlops.plan import Plan, PlanError, RecordedResource, plan_config, program_path, read_stack_config
from tests._project import PROJECT_DIR, STACKS, moto_server  # noqa: F401 - re-exported to the test modules

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
REGION = "us-east-1"
MODEL_NAME = "fraud-detector"

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
SCHEDULE = "aws:scheduler/schedule:Schedule"
SCHEDULE_GROUP = "aws:scheduler/scheduleGroup:ScheduleGroup"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
TRAINING = "mlops:training:TrainingPipeline"
TRIGGER = "mlops:training:RetrainTrigger"


def stack_config(stack: str) -> dict[str, Any]:
    """The committed stack file's config, structured values decoded."""
    config = read_stack_config(PROJECT_DIR, stack).config
    return {k: decode_json_text(v) for k, v in config.items()}


def with_training(stack: str, **training: Any) -> list[dict[str, Any]]:
    """The stack's `mlops:models` with fields of the first model's `training` section replaced
    (a value of None removes the field)."""
    models = stack_config(stack)["mlops:models"]
    merged = {**models[0].get("training", {}), **training}
    models[0]["training"] = {k: v for k, v in merged.items() if v is not None}
    return models


def _encoded(overrides: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}


def plan_with(stack: str, overrides: Mapping[str, Any]) -> Plan:
    """Plan a stack with some config values replaced."""
    config = read_stack_config(PROJECT_DIR, stack)
    return plan_config(config, program_path(PROJECT_DIR), _encoded(overrides))


def refused(stack: str, overrides: Mapping[str, Any]) -> str:
    """The error a stack with these config values must be refused with."""
    with pytest.raises(PlanError) as caught:
        plan_with(stack, overrides)
    return str(caught.value)


def one(resources: list[RecordedResource], what: str = "resource") -> RecordedResource:
    assert len(resources) == 1, f"expected one {what}, found {[r.name for r in resources]}"
    return resources[0]


def under(plan: Plan, component_type: str, type_token: str) -> list[RecordedResource]:
    """Resources of `type_token` whose parent chain includes a component of `component_type`."""
    return [r for r in plan.of_type(type_token) if f"{component_type}$" in r.urn]


def named(plan: Plan, type_token: str, suffix: str) -> RecordedResource:
    """The one resource of a type whose logical name ends with `suffix`."""
    return one([r for r in plan.of_type(type_token) if r.name.endswith(suffix)], f"{type_token} *{suffix}")


def definition(plan: Plan) -> dict[str, Any]:
    """The (only) pipeline's definition, parsed."""
    return json.loads(one(plan.of_type(PIPELINE), "pipeline").inputs["pipelineDefinition"])


def steps(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every step of the pipeline by name, the condition's branches included."""
    found: dict[str, dict[str, Any]] = {}
    for step in definition(plan)["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            for inner in step["Arguments"].get(branch, []):
                found[inner["Name"]] = inner
    return found


def bucket_names(plan: Plan) -> dict[str, str]:
    """The stack's data bucket names by role (raw, curated, artifacts, capture, access-logs)."""
    return plan.outputs["buckets"]


def key_arn(plan: Plan) -> str:
    return plan.outputs["dataKeyArn"]


def role_policy(plan: Plan, role_suffix: str) -> dict[str, Any]:
    """The inline policy of the training role whose logical name ends with `role_suffix`."""
    return json.loads(named(plan, ROLE_POLICY, f"{role_suffix}-policy").inputs["policy"])


def statements(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A policy's statements by Sid."""
    return {s["Sid"]: s for s in document["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture()
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A reset moto server, and an environment whose boto3 clients reach it (and nothing else)."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    for name, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": REGION,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_endpoint
