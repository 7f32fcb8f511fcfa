"""The serving settings on their own: defaults, derived values and the registry-name rule."""

from __future__ import annotations

import pytest

from mlops.settings import (
    DeploymentSettings,
    DeploymentStrategy,
    EndpointMode,
    EndpointSettings,
    NetworkSettings,
    RegistryStack,
    registry_of,
)


@pytest.mark.parametrize(("arn", "model", "expected"), [
    ("arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-fraud-detector/3", "fraud-detector",
     RegistryStack("111111111111", "us-east-1", "mlops-dev")),
    ("arn:aws:sagemaker:eu-west-1:222222222222:model-package/my-proj-feature-x-churn/12", "churn",
     RegistryStack("222222222222", "eu-west-1", "my-proj-feature-x")),
    ("arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-churn/3", "fraud-detector", None),
    ("arn:aws:sagemaker:us-east-1:111111111111:model-package/-churn/3", "churn", None),
    ("not-an-arn", "churn", None),
])
def test_registry_of_reads_the_registering_stack_from_the_group_name(
    arn: str, model: str, expected: RegistryStack | None
) -> None:
    assert registry_of(arn, model) == expected


@pytest.mark.parametrize(("settings", "baking"), [
    ({"strategy": "canary", "waitSeconds": 600, "terminationWaitSeconds": 600}, 1200),
    ({"strategy": "linear", "linearStepPercent": 25, "waitSeconds": 300, "terminationWaitSeconds": 0}, 1200),
    ({"strategy": "linear", "linearStepPercent": 30, "waitSeconds": 100, "terminationWaitSeconds": 50}, 450),
    ({"strategy": "all_at_once", "waitSeconds": 900, "terminationWaitSeconds": 120}, 120),
])
def test_baking_time_counts_every_wait(settings: dict[str, object], baking: int) -> None:
    assert DeploymentSettings.model_validate(settings).baking_seconds == baking


def test_defaults_are_the_cheap_endpoint() -> None:
    endpoint = EndpointSettings()
    assert endpoint.mode is EndpointMode.SERVERLESS
    assert endpoint.capture_percent == 0
    assert endpoint.deployment.strategy is DeploymentStrategy.CANARY
    assert EndpointSettings(mode=EndpointMode.INSTANCE).capture_percent == 20
    assert EndpointSettings(mode=EndpointMode.INSTANCE, data_capture_percent=0).capture_percent == 0


def test_network_lists_subnet_ids_and_zones() -> None:
    network = NetworkSettings.model_validate({
        "subnets": [{"id": "subnet-0a4e6f1c2b3d45e01", "availabilityZone": "us-east-1a"},
                    {"id": "subnet-0b5f7a2d3c4e56f02", "availabilityZone": "us-east-1a"}],
        "securityGroupIds": ["sg-0c6a8b3e4d5f67a03"],
    })
    assert network.subnet_ids == ["subnet-0a4e6f1c2b3d45e01", "subnet-0b5f7a2d3c4e56f02"]
    assert network.availability_zones == {"us-east-1a"}
