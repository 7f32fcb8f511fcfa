"""Fixtures and helpers of the endpoint tests: the stacks' plans, plans with config overrides, and lookups of
one model's resources inside a plan."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest

from mlops.plan import Plan, PlanError, RecordedResource, plan_config, program_path, read_stack_config
from tests._project import PROJECT_DIR, STACKS  # noqa: F401 - re-exported to the test modules

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
COMPONENT = "mlops:serving:ModelEndpoint"


def stack_models(stack: str) -> list[dict[str, Any]]:
    """The `mlops:models` list of a committed stack file, as plain data to copy and change."""
    config = read_stack_config(PROJECT_DIR, stack)
    return json.loads(config.config["mlops:models"])


def encode(overrides: Mapping[str, object]) -> dict[str, str]:
    """Config overrides as the engine hands them over: structured values as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}


def plan_with(
    stack: str, overrides: Mapping[str, object], *, without: tuple[str, ...] = (), stack_name: str | None = None
) -> Plan:
    """Plan a committed stack with some config values replaced, some keys removed, or under another stack
    name (the file's config planned as if `pulumi up -s <stack_name>`)."""
    config = read_stack_config(PROJECT_DIR, stack)
    values = {k: v for k, v in config.config.items() if k not in without}
    config = dataclasses.replace(config, config=values, stack=stack_name or config.stack)
    return plan_config(config, program_path(PROJECT_DIR), encode(overrides))


def refused(stack: str, overrides: Mapping[str, object], **options: Any) -> str:
    """Plan a stack with overrides that must be refused; return the message."""
    with pytest.raises(PlanError) as caught:
        plan_with(stack, overrides, **options)
    return str(caught.value)


def with_endpoint(stack: str, index: int = 0, **changes: Any) -> list[dict[str, Any]]:
    """The stack's models with model `index`'s endpoint section updated (None removes a key)."""
    models = stack_models(stack)
    endpoint = dict(models[index].get("endpoint", {}))
    for key, value in changes.items():
        if value is None:
            endpoint.pop(key, None)
        else:
            endpoint[key] = value
    models[index]["endpoint"] = endpoint
    return models


def component_of(plan: Plan, endpoint_name: str) -> RecordedResource:
    (component,) = [r for r in plan.of_type(COMPONENT) if r.name == endpoint_name]
    return component


def under(plan: Plan, component: RecordedResource) -> list[RecordedResource]:
    """Every resource inside a component, at any depth."""
    by_urn = plan.by_urn()
    found = []
    for r in plan.resources:
        parent = r.parent
        while parent is not None and parent != component.urn:
            parent = by_urn[parent].parent if parent in by_urn else None
        if parent == component.urn:
            found.append(r)
    return found


def one(resources: list[RecordedResource], type_token: str) -> RecordedResource:
    matches = [r for r in resources if r.type == type_token]
    assert len(matches) == 1, f"expected one {type_token}, found {len(matches)}"
    return matches[0]


def of_type(resources: list[RecordedResource], type_token: str) -> list[RecordedResource]:
    return [r for r in resources if r.type == type_token]


def statements(resource: RecordedResource) -> dict[str, dict[str, Any]]:
    """A policy-bearing resource's statements by Sid."""
    return {s["Sid"]: s for s in json.loads(resource.inputs["policy"])["Statement"]}
