"""ModelEndpoint on its own, under the recording mocks: each argument's effect, the negative cases, and the
bootstrap artifact's existence check outside the offline plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import components.model_endpoint as model_endpoint
from components import ModelEndpoint, ModelEndpointArgs, ServingMode, TrafficShifting
from mlops.plan import Plan, PlanError, run_program

from .conftest import CONFIG, ENDPOINT, MODEL, OBJECT, ROLE_POLICY, SCALING_POLICY, TARGET, of_type, one, statements

KEY = "arn:aws:kms:eu-west-1:444455556666:key/0000"
PACKAGE = "arn:aws:sagemaker:eu-west-1:444455556666:model-package/mlops-dev-m/7"
BASE: dict[str, Any] = {
    "endpoint_name": "unit-m", "account_id": "444455556666", "region": "eu-west-1", "kms_key_arn": KEY,
    "capture_bucket": "capture-bucket", "alarm_topic_arn": "arn:aws:sns:eu-west-1:444455556666:alerts",
    "image_repository_arn": "arn:aws:ecr:eu-west-1:444455556666:repository/mlops-model",
}
REGISTRY = {"model_package_arn": PACKAGE, "artifact_read_arns": ["arn:aws:s3:::art/*"], "artifact_key_arns": [KEY]}
INSTANCE = {"mode": ServingMode.INSTANCE, "min_instances": 2, "max_instances": 3}


def _plan(**overrides: Any) -> Plan:
    def program() -> None:
        ModelEndpoint("unit-m", ModelEndpointArgs(**{**BASE, **overrides}))

    return run_program(program, "mlops", "unit", {"aws:region": "eu-west-1"})


def test_instance_endpoint_with_linear_shifting() -> None:
    plan = _plan(**REGISTRY, **INSTANCE, traffic_shifting=TrafficShifting.LINEAR, shift_percent=25,
                 data_capture_percent=5)
    routing = one(plan.resources, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert routing["trafficRoutingConfiguration"] == {
        "type": "LINEAR", "waitIntervalInSeconds": 300, "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25},
    }
    assert one(plan.resources, CONFIG).inputs["dataCaptureConfig"]["initialSamplingPercentage"] == 5
    # No subnets: no VPC, and no permission to create network interfaces.
    assert "vpcConfig" not in one(plan.resources, MODEL).inputs
    assert "CreateInterfacesInGivenSubnets" not in statements(one(plan.resources, ROLE_POLICY))


def test_instance_endpoint_without_shifting_or_capture() -> None:
    plan = _plan(**REGISTRY, **INSTANCE)
    assert "deploymentConfig" not in one(plan.resources, ENDPOINT).inputs
    assert "dataCaptureConfig" not in one(plan.resources, CONFIG).inputs
    assert "WriteDataCapture" not in statements(one(plan.resources, ROLE_POLICY))
    assert not one(plan.resources, MODEL).retain_on_delete  # nothing can roll back to it
    assert len(of_type(plan.resources, TARGET)) == len(of_type(plan.resources, SCALING_POLICY)) == 1


@pytest.mark.parametrize(("instance_type", "encrypted"), [
    ("ml.m5.large", True), ("ml.c6i.xlarge", True), ("ml.inf1.xlarge", True),
    ("ml.m5d.large", False), ("ml.g4dn.xlarge", False), ("ml.g5.2xlarge", False), ("ml.p4d.24xlarge", False),
])
def test_volume_key_is_left_out_only_for_local_nvme_instance_types(instance_type: str, encrypted: bool) -> None:
    plan = _plan(**REGISTRY, **INSTANCE, instance_type=instance_type)
    assert ("kmsKeyArn" in one(plan.resources, CONFIG).inputs) is encrypted


@pytest.mark.parametrize(("overrides", "path", "reason"), [
    ({}, "model_package_arn", "give a model_package_arn or a bootstrap_artifact_path, exactly one"),
    ({**REGISTRY, "bootstrap_artifact_path": "m.tar.gz"}, "model_package_arn",
     "give a model_package_arn or a bootstrap_artifact_path, exactly one"),
    ({"bootstrap_artifact_path": "m.tar.gz"}, "bootstrap_artifact_path",
     "needs artifacts_bucket and image_uri as well"),
    ({"model_package_arn": PACKAGE}, "artifact_read_arns",
     "a model package needs artifact_read_arns and artifact_key_arns"),
    ({**REGISTRY, **INSTANCE, "min_instances": 4}, "min_instances", "need 1 <= min_instances (4) <= max_instances"),
    ({**REGISTRY, "data_capture_percent": 10}, "mode", "serverless endpoints support neither data capture nor a VPC"),
    ({**REGISTRY, "subnet_ids": ["subnet-0a4e6f1c2b3d45e01"]}, "mode",
     "serverless endpoints support neither data capture nor a VPC"),
    ({**REGISTRY, **INSTANCE, "subnet_ids": ["subnet-0a4e6f1c2b3d45e01"]}, "subnet_ids",
     "subnet_ids and security_group_ids go together"),
])
def test_invalid_argument_combinations_are_named(overrides: dict[str, Any], path: str, reason: str) -> None:
    problems = model_endpoint._problems(ModelEndpointArgs(**{**BASE, **overrides}))
    assert {"property_path": path, "reason": reason} in problems


def test_valid_arguments_have_no_problems() -> None:
    assert model_endpoint._problems(ModelEndpointArgs(**BASE, **REGISTRY, **INSTANCE)) == []
    bootstrap = {"bootstrap_artifact_path": "m.tar.gz", "artifacts_bucket": "art", "image_uri": "img@sha256:x"}
    assert model_endpoint._problems(ModelEndpointArgs(**BASE, **bootstrap)) == []


def test_bootstrap_artifact_missing_outside_the_offline_plan_says_run_make_train(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(model_endpoint, "_offline", lambda: False)  # as under `pulumi preview` / `pulumi up`
    missing = tmp_path / "build/model/model.tar.gz"
    bootstrap = {"bootstrap_artifact_path": str(missing), "artifacts_bucket": "art", "image_uri": "img@sha256:x"}
    with pytest.raises(PlanError) as caught:
        _plan(**bootstrap)
    assert f"{missing} does not exist" in str(caught.value)
    assert "run `make train`" in str(caught.value)
    missing.parent.mkdir(parents=True)
    missing.write_bytes(b"model")
    plan = _plan(**bootstrap)
    assert one(plan.resources, OBJECT).inputs["source"] == {"asset": "file", "path": str(missing)}


def test_bootstrap_artifact_missing_in_the_offline_plan_is_recorded_unread() -> None:
    plan = _plan(bootstrap_artifact_path="does/not/exist.tar.gz", artifacts_bucket="art", image_uri="img@sha256:x")
    assert one(plan.resources, OBJECT).inputs["source"] == {"asset": "file", "path": "does/not/exist.tar.gz"}
